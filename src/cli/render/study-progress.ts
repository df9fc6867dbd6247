import cliProgress from 'cli-progress';
import type { JobEvent } from '../../experiments/jobs.ts';

/** A progress display for a study: finished jobs out of all, the last result and the best score so far. */
export interface StudyProgressView {
  onEvent(event: JobEvent): void;
  stop(): void;
}

/**
 * Creates the progress display for `sweep`, `cv`, `curve` and `ladder` on stderr: a bar on a terminal, one line
 * per finished job otherwise (so logs of CI jobs stay readable).
 */
export function createStudyProgress(
  title: string,
  total: number,
  metrics: string | string[],
): StudyProgressView {
  const candidates = Array.isArray(metrics) ? metrics : [metrics];
  const scoreOf = (values: Record<string, number>) => {
    for (const key of candidates) if (values[key] !== undefined) return { key, value: values[key] as number };
    return null;
  };
  let done = 0;
  let failed = 0;
  let best: number | null = null;
  const describe = (event: Extract<JobEvent, { type: 'finished' }>) => {
    const { result } = event;
    const score = scoreOf(result.metrics);
    const outcome =
      result.status === 'failed'
        ? `failed: ${result.error}`
        : score === null
          ? 'finished'
          : `${score.key} ${score.value.toFixed(4)}`;
    return `${result.jobId} ${outcome}`;
  };
  const count = (event: Extract<JobEvent, { type: 'finished' }>) => {
    done++;
    if (event.result.status === 'failed') failed++;
    const score = scoreOf(event.result.metrics)?.value;
    if (score !== undefined && (best === null || score > best)) best = score;
  };
  if (!process.stderr.isTTY) {
    return {
      onEvent(event) {
        if (event.type !== 'finished') return;
        count(event);
        process.stderr.write(`${title} [${done}/${total}] ${describe(event)}\n`);
      },
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      format: `${title} [{bar}] {value}/{total} · best {best} · {info}`,
      barsize: 24,
      hideCursor: true,
      stream: process.stderr,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { best: '–', info: 'starting workers' });
  return {
    onEvent(event) {
      if (event.type === 'started') bar.update(done, { info: `${event.jobId} running` });
      if (event.type !== 'finished') return;
      count(event);
      bar.update(done, {
        best: best === null ? '–' : best.toFixed(4),
        info: `${describe(event)}${failed ? ` · ${failed} failed` : ''}`.slice(0, 80),
      });
    },
    stop() {
      bar.stop();
    },
  };
}
