/** Queue settings, payload types and small helpers shared by submitters and workers, without loading BullMQ. */
import type { ProblemCard } from '../core/project.ts';
import type { JobEvent, TrainJob } from '../experiments/jobs.ts';
import type { GateOutcome } from '../store/serving-store.ts';
import type { RetrainResult } from './retrain.ts';

/** Default queue name; the coordinators of detached studies use `<name>-studies`. */
export const DEFAULT_QUEUE_NAME = 'sapphire';
/** Default attempts per job before it is marked failed (a killed worker's job counts one attempt). */
export const DEFAULT_ATTEMPTS = 3;

/** Where the queue lives. */
export interface QueueConnection {
  /** `redis://[user:password@]host:port[/db]` or `rediss://…` (TLS). */
  url: string;
  /** Queue name (default {@link DEFAULT_QUEUE_NAME}); workers and submitters must agree. */
  name?: string;
}

/** Payload of a `train` job: one study member and the project card it is trained for. */
export interface TrainJobData {
  card: ProblemCard;
  job: TrainJob;
}

/** Payload of a `retrain` job: what `sapphire retrain` would do, run by a worker. */
export interface RetrainJobData {
  card: ProblemCard;
  tenant: string;
  name: string;
  actor: string;
  allowNoFeedback: boolean;
  command: string | null;
}

/** The studies a coordinator job can run, with their arguments as plain JSON. */
export type StudySpec =
  | { kind: 'sweep'; config: unknown; search: unknown }
  | { kind: 'cv'; config: unknown; folds: unknown }
  | { kind: 'nested-cv'; config: unknown; folds: unknown; inner: number; dimensions: unknown }
  | { kind: 'curve'; config: unknown; curve: unknown };

/** Payload of a `study` coordinator job (a detached study); `studyId` is set once its study run exists. */
export interface StudyJobData {
  card: ProblemCard;
  study: StudySpec;
  name: string;
  tags: string[];
  command: string | null;
  attempts: number;
  studyId?: string;
}

/** Progress a `retrain` or `study` job reports. */
export type QueueProgress = { message: string } | { studyId: string } | JobEvent;

/** A URL with its password hidden, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
}

/** What a queued retraining returns: the essentials of `retrainModel`'s result as JSON. */
export interface QueuedRetrain {
  run: string;
  promoted: boolean;
  from: number;
  version: number;
  dataset: string;
  trainRun: string;
  corrections: number;
  gates: GateOutcome[];
}

/** The essentials of a retraining's result, as a queued retraining returns them and `retrain --json` prints them. */
export function queuedRetrainOf(result: RetrainResult): QueuedRetrain {
  return {
    run: result.run.id,
    promoted: result.promoted,
    from: result.from.version,
    version: result.version.version,
    dataset: result.dataset.id,
    trainRun: result.trainRun.id,
    corrections: result.corrections,
    gates: result.gates,
  };
}
