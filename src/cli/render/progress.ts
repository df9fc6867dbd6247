import cliProgress from 'cli-progress';
import type { TrainProgress } from '../../models/model.ts';

/** A training progress display: a bar with epoch, loss and dev score on a terminal, plain lines otherwise. */
export interface TrainingProgressView {
  update(event: TrainProgress): void;
  stop(): void;
}

function describe(event: TrainProgress): string {
  const parts = [];
  if (event.loss !== undefined) parts.push(`loss ${event.loss.toPrecision(4)}`);
  if (event.devScore !== undefined) parts.push(`dev ${event.devScore.toFixed(4)}`);
  if (event.message) parts.push(event.message);
  return parts.join(' · ');
}

/** Creates the progress display for `sapphire train` (stderr, so stdout stays clean). */
export function createProgress(title: string): TrainingProgressView {
  if (!process.stderr.isTTY) {
    let last = 0;
    return {
      update(event) {
        const now = Date.now();
        if (now - last < 1000 && event.epoch < event.epochs) return;
        last = now;
        process.stderr.write(`${title}: epoch ${event.epoch}/${event.epochs} ${describe(event)}\n`);
      },
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      format: `${title} [{bar}] {value}/{total} epochs · {info}`,
      barsize: 24,
      hideCursor: true,
      stream: process.stderr,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(event) {
      if (!started) {
        bar.start(event.epochs, 0, { info: '' });
        started = true;
      }
      bar.setTotal(event.epochs);
      bar.update(event.epoch, { info: describe(event) });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
