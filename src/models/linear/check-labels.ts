import { DataError, type Problem, throwIfProblems } from '../../core/errors.ts';
import type { Example } from '../../data/types.ts';

/**
 * Checks every example carries labels fit for a classification task (exactly one for `classify`, a list for
 * `multilabel`) and returns the sorted label set; throws one DataError listing every bad example.
 */
export function collectLabels(
  examples: Example[],
  task: 'classify' | 'multilabel',
  split: string,
  architecture: string,
  requireSome = true,
): string[] {
  const problems: Problem[] = [];
  const labels = new Set<string>();
  for (const ex of examples) {
    if (!Array.isArray(ex.labels)) {
      problems.push({ exampleId: ex.id, message: `${split} example has no labels` });
    } else if (task === 'classify' && ex.labels.length !== 1) {
      problems.push({
        exampleId: ex.id,
        message: `${split} example has ${ex.labels.length} labels; task "classify" needs exactly one`,
      });
    } else {
      for (const l of ex.labels) labels.add(l);
    }
  }
  throwIfProblems(
    problems,
    `${split} examples`,
    task === 'classify'
      ? 'give every example one label, or set task: multilabel'
      : 'give every example a labels array (it may be empty)',
  );
  if (requireSome && labels.size === 0) {
    throw new DataError(`${architecture} needs at least one labelled ${split} example`, {
      hint: 'add labelled examples before training',
    });
  }
  return [...labels].sort();
}
