import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';

const RESULTS = resolve(import.meta.dirname, 'results');

/** Writes a benchmark's output as pretty JSON to bench/results/<name>.json. */
export function writeResult(name: string, output: unknown): void {
  writeFileSync(join(RESULTS, `${name}.json`), `${JSON.stringify(output, null, 2)}\n`);
}

/** The load average as printed beside every noisy measurement, e.g. `load average 1.02 0.80 0.75`. */
export function loadLine(): string {
  return `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`;
}

/** When and where a benchmark ran: date, CPUs, load average and Node version, for the JSON results. */
export function machineInfo(): { date: string; cpus: number; cpu: string; loadavg: number[]; node: string } {
  return {
    date: new Date().toISOString(),
    cpus: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    loadavg: loadavg(),
    node: process.version,
  };
}
