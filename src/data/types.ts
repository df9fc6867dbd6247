/** A token with character offsets into its example's text (`end` exclusive). */
export interface Token {
  text: string;
  start: number;
  end: number;
}

/** A labelled span in character offsets into its example's text (`end` exclusive). */
export interface Span {
  start: number;
  end: number;
  label: string;
}

/** Name of a data split; `train`, `dev` and `test` are the conventional ones. */
export type SplitName = string;

/**
 * One unit of data: a text with optional tokens, entity spans, class labels and metadata.
 *
 * @example
 * const ex: Example = { id: 'ex1', text: 'Nike shoes', spans: [{ start: 0, end: 4, label: 'BRAND' }], meta: {} };
 */
export interface Example {
  id: string;
  text: string;
  tokens?: Token[];
  spans?: Span[];
  labels?: string[];
  /** Split assignment, when the dataset version has one. */
  split?: SplitName;
  meta: Record<string, unknown>;
}

/** The kinds of problem a project solves. */
export type TaskKind = 'ner' | 'classify' | 'multilabel';
