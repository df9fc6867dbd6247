// The serving floor for bench/serve-throughput.ts: a bare Fastify app with the same two kinds of route as
// `sapphire serve` — `GET /healthz` answering {"status":"ok"} and a JSON POST whose handler does nothing but
// answer a fixed predict-shaped body of about the same size (10 class scores) — and nothing else: no auth, no
// metrics, no model, no log. What it reaches shows what any Fastify POST route costs on the machine.
// Prints {"url": …} once listening.
import fastify from 'fastify';

const app = fastify({ logger: false });
app.get('/healthz', async () => ({ status: 'ok' }));
const scores = Array.from({ length: 10 }, (_, i) => ({
  label: `a_class_label_${i}`,
  score: 0.1 - i * 0.001,
}));
const answer = {
  requestId: '00000000-0000-4000-8000-000000000000',
  model: { name: 'floor', version: 1, architecture: 'none' },
  result: { labels: [scores[0]], scores, overrides: [] },
};
app.post(
  '/predict',
  {
    schema: {
      body: { type: 'object', properties: { text: { type: 'string' } }, additionalProperties: false },
    },
  },
  async () => answer,
);
await app.listen({ port: 0, host: '127.0.0.1' });
console.log(JSON.stringify({ url: `http://127.0.0.1:${app.server.address().port}` }));
