import type { Example } from '../../../src/data/types.ts';

const ex = (id: string, text: string, labels: string[]): Example => ({ id, text, labels, meta: {} });

/** A tiny three-intent banking set, one label per text. */
export const intents: Example[] = [
  ex('c1', 'where is my new card', ['card_arrival']),
  ex('c2', 'my card has not arrived yet', ['card_arrival']),
  ex('c3', 'card still not delivered', ['card_arrival']),
  ex('t1', 'I want to top up my account', ['top_up']),
  ex('t2', 'how do I top up with a bank transfer', ['top_up']),
  ex('t3', 'top up failed again', ['top_up']),
  ex('r1', 'what is the exchange rate today', ['exchange_rate']),
  ex('r2', 'which exchange rate do you use', ['exchange_rate']),
  ex('r3', 'rate for euro to dollar exchange', ['exchange_rate']),
];

/** Texts to predict on: seen and unseen, including one with no known word. */
export const intentProbe: Example[] = [
  ...intents.slice(0, 2),
  ex('p1', 'my card is not here', ['card_arrival']),
  ex('p2', 'top-up please', ['top_up']),
  ex('p3', 'EXCHANGE RATES?', ['exchange_rate']),
  ex('p4', 'zzz qqq', ['card_arrival']),
];

/** A tiny multi-label set: topics of short product reviews (zero, one or two labels each). */
export const topics: Example[] = [
  ex('m1', 'battery dies fast', ['battery']),
  ex('m2', 'battery lasts forever', ['battery']),
  ex('m3', 'screen is too dim', ['screen']),
  ex('m4', 'bright sharp screen', ['screen']),
  ex('m5', 'battery weak and screen cracked', ['battery', 'screen']),
  ex('m6', 'screen flickers and battery swells', ['battery', 'screen']),
  ex('m7', 'arrived on time', []),
  ex('m8', 'nice box', []),
];

/** Probe texts for the multi-label set. */
export const topicProbe: Example[] = [
  ...topics.slice(0, 3),
  ex('q1', 'the battery is bad', ['battery']),
  ex('q2', 'screen and battery both fine', ['battery', 'screen']),
  ex('q3', 'fast delivery', []),
];
