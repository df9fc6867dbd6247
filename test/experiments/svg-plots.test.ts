import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  escapeXml,
  groupedBarsSvg,
  learningCurveSvg,
  niceAxis,
  PALETTE,
  tickDecimals,
} from '../../src/experiments/svg-plots.ts';

/** Checks that every tag is closed in order (attribute values are escaped, so `>` only ends tags). */
function assertWellFormed(svg: string): void {
  const stack: string[] = [];
  for (const [, close, name, selfClose] of svg.matchAll(/<(\/?)([A-Za-z][\w-]*)[^>]*?(\/?)>/g)) {
    if (selfClose) continue;
    if (close) assert.equal(stack.pop(), name, `</${name}> closes the open element`);
    else stack.push(name!);
  }
  assert.deepEqual(stack, [], 'every element is closed');
  assert.match(
    svg,
    /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="\d+" height="\d+" viewBox="0 0 \d+ \d+"/,
  );
}

function count(svg: string, pattern: RegExp): number {
  return svg.match(new RegExp(pattern.source, 'g'))?.length ?? 0;
}

describe('escapeXml', () => {
  it('escapes the five XML special characters', () => {
    assert.equal(
      escapeXml(`<a href="x">Tom & Jerry's</a>`),
      '&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;',
    );
  });
});

describe('niceAxis', () => {
  it('widens a range to whole nice steps', () => {
    assert.deepEqual(niceAxis(0.62, 0.91), {
      min: 0.6,
      max: 0.95,
      step: 0.05,
      ticks: [0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95],
    });
    assert.deepEqual(niceAxis(0, 1).ticks, [0, 0.2, 0.4, 0.6, 0.8, 1]);
    assert.equal(tickDecimals(0.05), 2);
    assert.equal(tickDecimals(5), 0);
  });

  it('always covers the data with evenly spaced, sorted ticks from min to max', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -1e6, max: 1e6, noNaN: true }),
        fc.double({ min: 0, max: 1e6, noNaN: true }),
        fc.integer({ min: 2, max: 10 }),
        (lo, width, target) => {
          const axis = niceAxis(lo, lo + width, target);
          const eps = axis.step * 1e-6;
          assert.ok(axis.min <= lo + eps && axis.max >= lo + width - eps, JSON.stringify(axis));
          assert.ok(Math.abs(axis.ticks[0]! - axis.min) <= eps);
          assert.ok(Math.abs(axis.ticks.at(-1)! - axis.max) <= eps);
          assert.ok(axis.ticks.length >= 2 && axis.ticks.length <= 2 * target + 3, JSON.stringify(axis));
          for (let i = 1; i < axis.ticks.length; i++) {
            assert.ok(Math.abs(axis.ticks[i]! - axis.ticks[i - 1]! - axis.step) <= eps * 10);
          }
        },
      ),
    );
  });

  it('refuses bounds in the wrong order', () => {
    assert.throws(() => niceAxis(2, 1), { code: 'BAD_INPUT' });
  });
});

describe('learningCurveSvg', () => {
  const plot = {
    title: 'Learning curve <A&B>',
    xLabel: 'training examples',
    yLabel: 'dev.macro_f1',
    points: [
      { x: 479, mean: 0.7, std: 0.02 },
      { x: 958, mean: 0.78, std: 0.01 },
      { x: 1915, mean: 0.83, std: 0 },
    ],
    trend: [
      { x: 479, y: 0.7 },
      { x: 1915, y: 0.83 },
      { x: 3830, y: 0.86 },
    ],
    marker: { x: 3830, y: 0.86, label: '2× data' },
  };

  it('draws points with error bars, the dashed trend, the marked estimate, axes and a legend', () => {
    const svg = learningCurveSvg(plot);
    assertWellFormed(svg);
    // One circle per point plus the legend swatch.
    assert.equal(count(svg, /<circle /), 4);
    // Error bars (bar + two caps) only for points with a spread.
    assert.equal(count(svg, /<g class="point"><line /), 2);
    assert.match(
      svg,
      /<path class="trend" d="M[\d.]+ [\d.]+ L[\d.]+ [\d.]+ L[\d.]+ [\d.]+" fill="none" [^>]*stroke-dasharray="5 3"/,
    );
    assert.match(svg, /<g class="estimate"><path d="M[^"]+Z"/);
    assert.match(svg, />2× data: 0\.860</);
    assert.match(svg, />training examples \(log scale\)</);
    assert.match(svg, /rotate\(-90\)[^>]*>dev\.macro_f1</);
    for (const text of ['mean ± std', 'fitted trend', '2× data'])
      assert.match(svg, new RegExp(`>${text}</text>`));
    // Log-scale ticks at the measured sizes and the estimate.
    for (const tick of ['479', '958', '1,915', '3,830']) assert.match(svg, new RegExp(`>${tick}</text>`));
    assert.match(svg, /<title>Learning curve &lt;A&amp;B&gt;<\/title>/);
    assert.doesNotMatch(svg, /<A&B>/);
  });

  it('keeps scores on a [0, 1] axis and uses a linear axis for a narrow size range', () => {
    const svg = learningCurveSvg({
      title: 't',
      xLabel: 'n',
      yLabel: 'f1',
      points: [
        { x: 100, mean: 0.98, std: 0.05 },
        { x: 150, mean: 0.99, std: 0.05 },
      ],
    });
    assertWellFormed(svg);
    assert.doesNotMatch(svg, /log scale/);
    assert.doesNotMatch(svg, />1\.1</);
    assert.doesNotMatch(svg, /class="trend"/);
  });

  it('refuses empty or non-finite points', () => {
    assert.throws(() => learningCurveSvg({ ...plot, points: [] }), { code: 'BAD_INPUT' });
    assert.throws(() => learningCurveSvg({ ...plot, points: [{ x: 1, mean: Number.NaN, std: 0 }] }), {
      code: 'BAD_INPUT',
    });
  });
});

describe('groupedBarsSvg', () => {
  const plot = {
    title: 'Per-label F1',
    yLabel: 'F1',
    categories: ['PER', 'ORG', 'LOC'],
    series: [
      { name: 'crf <v1>', values: [0.9, 0.8, 0.7] },
      { name: 'rules', values: [0.6, null, 0.5] },
    ],
  };

  it('draws one bar per value in series colours, with a legend and category labels', () => {
    const svg = groupedBarsSvg(plot);
    assertWellFormed(svg);
    const bars =
      svg.match(/<rect x="[^"]+" y="[^"]+" width="\d+" height="[^"]+" fill="#[0-9A-F]{6}"><title>/g) ?? [];
    assert.equal(bars.length, 5, 'null values draw no bar');
    assert.equal(count(svg, new RegExp(`fill="${PALETTE[0]}"><title>`)), 3);
    assert.equal(count(svg, new RegExp(`fill="${PALETTE[1]}"><title>`)), 2);
    assert.match(svg, /<title>crf &lt;v1&gt; — ORG: 0\.800<\/title>/);
    assert.match(svg, />crf &lt;v1&gt;<\/text>/);
    for (const label of ['PER', 'ORG', 'LOC']) assert.match(svg, new RegExp(`>${label}<title>`));
    for (const tick of ['0.0', '0.2', '1.0']) assert.match(svg, new RegExp(`>${tick}</text>`));
  });

  it('scales bars to the y axis', () => {
    const svg = groupedBarsSvg({ ...plot, series: [{ name: 'a', values: [1, 0.5, 0] }] });
    const heights = [...svg.matchAll(/height="([\d.]+)" fill="#0072B2"><title>/g)].map((m) => Number(m[1]));
    assert.equal(heights.length, 3);
    assert.ok(Math.abs(heights[0]! - 2 * heights[1]!) < 0.05, `heights ${heights}`);
    assert.equal(heights[2], 0);
  });

  it('rotates and shortens long category labels, keeping the full text in a tooltip', () => {
    const long = 'A_VERY_LONG_ENTITY_LABEL_NAME_INDEED';
    const svg = groupedBarsSvg({ ...plot, categories: [long, 'B', 'C'] });
    assertWellFormed(svg);
    assert.match(svg, /rotate\(-35\)/);
    assert.match(svg, /A_VERY_LONG_ENTITY_LA…<title>A_VERY_LONG_ENTITY_LABEL_NAME_INDEED<\/title>/);
  });

  it('refuses series whose length does not match the categories', () => {
    assert.throws(() => groupedBarsSvg({ ...plot, series: [{ name: 'x', values: [0.5] }] }), {
      code: 'BAD_INPUT',
    });
    assert.throws(() => groupedBarsSvg({ ...plot, categories: [] }), { code: 'BAD_INPUT' });
  });
});
