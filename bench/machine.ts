/** The machine block every benchmark's JSON records (CPU, cores, Node, load averages around the run). */
import { cpus } from 'node:os';

/** CPU model, core count, Node version and the load averages before and after the measured work. */
export function machineInfo(loadAverageBefore: number[], loadAverageAfter: number[]) {
  return {
    cpu: cpus()[0]?.model,
    cores: cpus().length,
    node: process.version,
    loadAverageBefore,
    loadAverageAfter,
  };
}
