/** Stable error codes; each maps to an HTTP status for the service layer. */
export const ERROR_STATUS = {
  BAD_INPUT: 400,
  CONFIG_INVALID: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  PAYLOAD_TOO_LARGE: 413,
  TOO_MANY_REQUESTS: 429,
  UNAVAILABLE: 503,
  DATA_INVALID: 422,
  NOT_FOUND: 404,
  CONFLICT: 409,
  NOT_FITTED: 409,
  STORE_OUTDATED: 503,
  STORE_ERROR: 500,
  INCOMPATIBLE_VERSION: 409,
  INTERNAL: 500,
} as const;

/** A code from {@link ERROR_STATUS}. */
export type ErrorCode = keyof typeof ERROR_STATUS;

/** Where a problem was found: file and line, field path, or example id. */
export interface ErrorLocation {
  file?: string;
  line?: number;
  column?: number;
  path?: string;
  exampleId?: string;
}

/** Extra structured context carried by every Sapphire error. */
export interface ErrorDetails extends ErrorLocation {
  /** What the user can do about it, in one sentence. */
  hint?: string;
  /** Several problems found in one batch (import, validation). */
  problems?: Problem[];
  [key: string]: unknown;
}

/** One problem found while checking a batch of items. */
export interface Problem extends ErrorLocation {
  message: string;
}

/** Formats a location as `file:line` / `path` / `example id` for messages. */
export function formatLocation(loc: ErrorLocation): string {
  const parts: string[] = [];
  if (loc.file) parts.push(loc.line !== undefined ? `${loc.file}:${loc.line}` : loc.file);
  else if (loc.line !== undefined) parts.push(`line ${loc.line}`);
  if (loc.path) parts.push(`field ${loc.path}`);
  if (loc.exampleId) parts.push(`example ${loc.exampleId}`);
  return parts.join(', ');
}

/** Formats a problem as one line: `where: message`. */
export function formatProblem(p: Problem): string {
  const where = formatLocation(p);
  return where ? `${where}: ${p.message}` : p.message;
}

/** The one error type of Sapphire: a stable code, a message and structured details. */
export class SapphireError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message);
    this.name = 'SapphireError';
    this.code = code;
    this.details = details;
  }

  /** HTTP status for this error's code. */
  get status(): number {
    return ERROR_STATUS[this.code];
  }

  /** The hint, if any. */
  get hint(): string | undefined {
    return this.details.hint;
  }

  /** JSON body used by the CLI's `--json` mode and the HTTP service. */
  toJSON(): { error: { code: ErrorCode; message: string; details: ErrorDetails } } {
    return { error: { code: this.code, message: this.message, details: this.details } };
  }
}

/** Bad data: carries file, line and example id where known. */
export class DataError extends SapphireError {
  constructor(message: string, details: ErrorDetails = {}) {
    const where = formatLocation(details);
    super('DATA_INVALID', where ? `${where}: ${message}` : message, details);
    this.name = 'DataError';
  }
}

/** Bad configuration: carries the field path and, when known, the file line. */
export class ConfigError extends SapphireError {
  constructor(message: string, details: ErrorDetails = {}) {
    const where = formatLocation(details);
    super('CONFIG_INVALID', where ? `${where}: ${message}` : message, details);
    this.name = 'ConfigError';
  }
}

/** A model was used before it was trained or loaded. */
export class NotFittedError extends SapphireError {
  constructor(what = 'model') {
    super('NOT_FITTED', `the ${what} is not fitted yet`, { hint: 'call fit() or load a saved model first' });
    this.name = 'NotFittedError';
  }
}

/** Something named does not exist (dataset, run, model). */
export class NotFoundError extends SapphireError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('NOT_FOUND', message, details);
    this.name = 'NotFoundError';
  }
}

/** Throws a DataError listing every problem (first few in the message) when there are any. */
export function throwIfProblems(problems: Problem[], what: string, hint?: string): void {
  if (problems.length === 0) return;
  const shown = problems.slice(0, 5).map(formatProblem);
  const more = problems.length > 5 ? `\n  … and ${problems.length - 5} more` : '';
  const first = problems[0]!;
  throw new SapphireError(
    'DATA_INVALID',
    problems.length === 1
      ? `${formatProblem(first)}`
      : `${problems.length} problems in ${what}:\n  ${shown.join('\n  ')}${more}`,
    { ...first, problems, hint },
  );
}
