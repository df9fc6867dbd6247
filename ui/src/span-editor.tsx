import type { ComponentChildren } from 'preact';
import { useMemo, useRef, useState } from 'preact/hooks';
import { labelIndex } from './components.tsx';
import type { Span } from './types.ts';

interface Token {
  start: number;
  end: number;
}

function tokenize(text: string): Token[] {
  return [...text.matchAll(/[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]/gu)].map((m) => ({
    start: m.index!,
    end: m.index! + m[0].length,
  }));
}

/** The character offset of a DOM position inside `root` (labels are CSS pseudo-elements, so text = the example's text). */
function offsetIn(root: HTMLElement, node: Node, offset: number): number {
  const range = document.createRange();
  range.setStart(root, 0);
  range.setEnd(node, offset);
  return range.toString().length;
}

/**
 * Labels entity spans in a text: select words with the mouse (or move a token cursor with ←/→ and extend it with
 * Shift+←/→), then press a number key or click a label; Delete/Backspace removes the span under the cursor, and
 * each span has a remove button. The spans never overlap: a new span replaces those it touches.
 */
export function SpanEditor({
  text,
  spans,
  labels,
  onChange,
  id,
}: {
  text: string;
  spans: Span[];
  labels: string[];
  onChange: (spans: Span[]) => void;
  id: string;
}) {
  const tokens = useMemo(() => tokenize(text), [text]);
  const box = useRef<HTMLDivElement>(null);
  const [cursor, setCursor] = useState<{ from: number; to: number } | null>(null);
  const [mouse, setMouse] = useState<{ start: number; end: number } | null>(null);

  const selection = (): { start: number; end: number } | null => {
    if (mouse) return mouse;
    if (!cursor) return null;
    const a = Math.min(cursor.from, cursor.to);
    const b = Math.max(cursor.from, cursor.to);
    return { start: tokens[a]!.start, end: tokens[b]!.end };
  };

  const add = (label: string) => {
    const sel = selection();
    if (!sel || sel.end <= sel.start) return;
    const kept = spans.filter((s) => s.end <= sel.start || s.start >= sel.end);
    onChange([...kept, { ...sel, label }].sort((a, b) => a.start - b.start));
    setMouse(null);
    getSelection()?.removeAllRanges();
  };

  const onMouseUp = () => {
    const sel = getSelection();
    const root = box.current;
    if (!sel || !root || sel.rangeCount === 0 || sel.isCollapsed) return;
    const range = sel.getRangeAt(0);
    if (!root.contains(range.startContainer) || !root.contains(range.endContainer)) return;
    let start = offsetIn(root, range.startContainer, range.startOffset);
    let end = offsetIn(root, range.endContainer, range.endOffset);
    // Snap to whole tokens, the unit entities are made of.
    const first = tokens.find((t) => t.end > start);
    const last = [...tokens].reverse().find((t) => t.start < end);
    if (!first || !last || last.end <= first.start) return;
    start = first.start;
    end = last.end;
    setMouse({ start, end });
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (tokens.length === 0) return;
    const n = Number(e.key);
    if (Number.isInteger(n) && n >= 1 && n <= labels.length) {
      e.preventDefault();
      add(labels[n - 1]!);
      return;
    }
    if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
      e.preventDefault();
      setMouse(null);
      const step = e.key === 'ArrowRight' ? 1 : -1;
      const at = cursor ? cursor.to : step > 0 ? -1 : tokens.length;
      const to = Math.max(0, Math.min(tokens.length - 1, at + step));
      setCursor(e.shiftKey && cursor ? { from: cursor.from, to } : { from: to, to });
      return;
    }
    if ((e.key === 'Delete' || e.key === 'Backspace') && cursor) {
      e.preventDefault();
      const t = tokens[cursor.to]!;
      onChange(spans.filter((s) => s.end <= t.start || s.start >= t.end));
    }
  };

  const sel = selection();
  const parts: ComponentChildren[] = [];
  let at = 0;
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  const plain = (from: number, to: number) => {
    if (to <= from) return;
    if (sel && sel.start < to && sel.end > from) {
      const a = Math.max(from, sel.start);
      const b = Math.min(to, sel.end);
      if (a > from) parts.push(text.slice(from, a));
      parts.push(
        <span class="sel" key={`sel-${a}`}>
          {text.slice(a, b)}
        </span>,
      );
      if (to > b) parts.push(text.slice(b, to));
    } else parts.push(text.slice(from, to));
  };
  for (const s of sorted) {
    if (s.start < at) continue;
    plain(at, s.start);
    parts.push(
      <mark class={`ent ent-${labelIndex(s.label)}`} data-label={s.label} key={`${s.start}-${s.end}`}>
        {text.slice(s.start, s.end)}
      </mark>,
    );
    at = s.end;
  }
  plain(at, text.length);

  return (
    <div class="span-editor">
      {/* biome-ignore lint/a11y/useSemanticElements: a read-only text whose words are selected by mouse or arrow keys, not an input */}
      <div
        ref={box}
        id={id}
        class="highlighted editable"
        tabIndex={0}
        role="textbox"
        aria-readonly="true"
        aria-label="Text to label: select words (or use ←/→, Shift to extend), then press a label's number"
        onMouseUp={onMouseUp}
        onKeyDown={onKeyDown}
      >
        {parts}
      </div>
      <fieldset class="label-keys">
        <legend class="sr-only">Labels</legend>
        {labels.map((l, i) => (
          <button
            type="button"
            key={l}
            class={`ent-${labelIndex(l)} small`}
            onClick={() => add(l)}
            disabled={!sel}
          >
            <kbd>{i + 1}</kbd> {l}
          </button>
        ))}
      </fieldset>
      {spans.length > 0 ? (
        <ul class="span-list">
          {sorted.map((s) => (
            <li key={`${s.start}-${s.end}`}>
              <span class={`ent ent-${labelIndex(s.label)}`}>{text.slice(s.start, s.end)}</span> {s.label}{' '}
              <button
                type="button"
                class="small"
                aria-label={`remove ${s.label} ${text.slice(s.start, s.end)}`}
                onClick={() => onChange(spans.filter((x) => x !== s))}
              >
                remove
              </button>
            </li>
          ))}
        </ul>
      ) : (
        <p class="muted small-text">No entities.</p>
      )}
    </div>
  );
}
