import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  displayWidth,
  formatCount,
  formatPercent,
  pad,
  renderTable,
  truncate,
} from '../../src/core/table.ts';

describe('formatCount / formatPercent', () => {
  it('adds thousands separators independent of locale', () => {
    assert.equal(formatCount(3394), '3,394');
    assert.equal(formatCount(0), '0');
    assert.equal(formatCount(999), '999');
    assert.equal(formatCount(1234567), '1,234,567');
    assert.equal(formatCount(-12345), '-12,345');
    assert.equal(formatCount(1234.5), '1,234.5');
  });

  it('formats fractions as percentages with the given digits', () => {
    assert.equal(formatPercent(0.1234), '12.3%');
    assert.equal(formatPercent(0.1234, 2), '12.34%');
    assert.equal(formatPercent(1, 0), '100%');
    assert.equal(formatPercent(Number.NaN), '–');
  });
});

describe('displayWidth / truncate / pad', () => {
  it('counts CJK and emoji as two columns and combining marks as zero', () => {
    assert.equal(displayWidth('abc'), 3);
    assert.equal(displayWidth('東京'), 4);
    assert.equal(displayWidth('한국어'), 6);
    assert.equal(displayWidth('😀'), 2);
    assert.equal(displayWidth('👨‍👩‍👧'), 2);
    assert.equal(displayWidth('🇫🇷'), 2);
    assert.equal(displayWidth('e\u0301'), 1);
    assert.equal(displayWidth('café'), 4);
    assert.equal(displayWidth('▇▇'), 2);
  });

  it('truncates to a display width with an ellipsis', () => {
    assert.equal(truncate('hello world', 20), 'hello world');
    assert.equal(truncate('hello world', 8), 'hello w…');
    assert.equal(truncate('東京都庁', 5), '東京…');
    assert.equal(displayWidth(truncate('東京都庁', 5)), 5);
  });

  it('pads by display width', () => {
    assert.equal(pad('東', 4), '東  ');
    assert.equal(pad('ab', 4, 'right'), '  ab');
  });

  it('property: truncate never exceeds the width', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.integer({ min: 1, max: 30 }), (s, w) => {
        assert.ok(displayWidth(truncate(s, w)) <= w);
      }),
    );
  });
});

describe('renderTable', () => {
  it('aligns columns, right-aligning numeric ones and formatting numbers', () => {
    const out = renderTable(
      [
        ['PER', 1234, '12.5%'],
        ['LOC', 88, '3.0%'],
      ],
      { header: ['label', 'count', 'share'], title: 'Entities' },
    );
    assert.equal(
      out,
      [
        'Entities',
        'label  count  share',
        '─────  ─────  ─────',
        'PER    1,234  12.5%',
        'LOC       88   3.0%',
      ].join('\n'),
    );
  });

  it('honours explicit alignment and max widths, and aligns wide characters', () => {
    const out = renderTable(
      [
        ['東京', 1],
        ['a very long label indeed', 22],
      ],
      { header: ['city', 'n'], align: ['left', 'left'], maxWidth: [10] },
    );
    const lines = out.split('\n');
    assert.equal(lines[2], '東京        1');
    assert.equal(lines[3], 'a very lo…  22');
    assert.equal(displayWidth(lines[2]!.slice(0, lines[2]!.indexOf('1'))), displayWidth('a very lo…  '));
  });

  it('formats non-integers to at most three decimals and tolerates short rows', () => {
    const out = renderTable([[0.123456], []], { header: ['x', 'y'] });
    assert.equal(out.split('\n')[2], '0.123');
    assert.equal(out.split('\n')[3], '');
  });

  it('has no colour codes', () => {
    const out = renderTable([['a', 1]], { header: ['k', 'v'] });
    assert.ok(!out.includes('\u001b'));
  });
});
