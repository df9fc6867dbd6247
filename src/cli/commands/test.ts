import { relative, resolve } from 'node:path';
import type { Command } from 'commander';
import type { BehaviouralFailure, BehaviouralTestResult } from '../../analysis/behavioural.ts';
import { EARMARKS_FILE, formatEarmarkFailure } from '../../analysis/earmarks.ts';
import { loadModelUnderTest, type ModelTestsResult, runModelTests } from '../../analysis/model-tests.ts';
import { SapphireError } from '../../core/errors.ts';
import { formatPercent, renderTable } from '../../core/table.ts';
import type { Prediction } from '../../models/model.ts';
import { withProject } from '../context.ts';
import { type GlobalFlags, printJson, say } from '../output.ts';

interface TestFlags {
  earmarks?: string;
  behaviour: boolean;
  examples: string;
}

function describePrediction(p: { text: string; prediction: Prediction; marked?: string }): string {
  if (p.marked !== undefined) return p.marked;
  const labels = p.prediction.labels ?? [];
  return `${p.text}  → ${labels.join(', ') || '(no label)'}`;
}

function renderBehaviouralFailure(failure: BehaviouralFailure): string {
  const lines: string[] = [];
  if (failure.before) lines.push(`    before: ${describePrediction(failure.before)}`);
  lines.push(`    ${failure.before ? 'after: ' : 'text:  '} ${describePrediction(failure.after)}`);
  for (const d of failure.differences) lines.push(`      - ${d}`);
  return lines.join('\n');
}

function renderBehaviour(results: readonly BehaviouralTestResult[]): string {
  const table = renderTable(
    results.map((r) => [
      r.exceeded ? `✗ ${r.name}` : r.name,
      r.type,
      r.cases,
      r.failures,
      formatPercent(r.failureRate),
      r.maxFailureRate === null ? '–' : formatPercent(r.maxFailureRate),
      r.skipped,
    ]),
    {
      title: 'Behavioural tests',
      header: ['test', 'type', 'cases', 'failures', 'failure rate', 'max', 'skipped'],
    },
  );
  const examples = results
    .filter((r) => r.examples.length > 0)
    .map(
      (r) =>
        `${r.name} (${r.type}): first ${r.examples.length} of ${r.failures} failures\n${r.examples.map(renderBehaviouralFailure).join('\n')}`,
    );
  return [table, ...examples].join('\n\n');
}

function renderResult(result: ModelTestsResult, cwd: string): string {
  const parts: string[] = [];
  const e = result.earmarks;
  if (e) {
    const file = relative(cwd, e.file) || e.file;
    parts.push(`Earmarks (${file}): ${e.passed} of ${e.total} passed`);
    for (const failed of e.failed) parts.push(formatEarmarkFailure(failed, file));
  } else parts.push(`Earmarks: none (no ${EARMARKS_FILE} in the project)`);
  if (result.behaviour.length > 0) parts.push(renderBehaviour(result.behaviour));
  const problems: string[] = [];
  if (e && e.failed.length > 0)
    problems.push(`${e.failed.length} earmark${e.failed.length === 1 ? '' : 's'} failed`);
  const over = result.behaviour.filter((b) => b.exceeded);
  if (over.length > 0) problems.push(`${over.map((b) => b.name).join(', ')} over maxFailureRate`);
  parts.push(
    `${result.passed ? 'PASSED' : `FAILED: ${problems.join('; ')}`} (recorded as run ${result.run.id})`,
  );
  return parts.join('\n\n');
}

/** Registers `sapphire test`: a model's earmarks and behavioural tests, exiting 1 when they fail. */
export function registerTestCommand(program: Command): void {
  program
    .command('test')
    .description(
      "run a model's earmarks (earmarks.jsonl) and behavioural tests (sapphire.yaml behaviour:); exit 1 on failure",
    )
    .argument('<model>', 'model directory written by `sapphire train`, or a run id (or a unique part of one)')
    .option('--earmarks <file>', `earmarks file (default: ${EARMARKS_FILE} in the project, when present)`)
    .option('--no-behaviour', 'skip the behavioural tests of sapphire.yaml')
    .option('--examples <n>', 'failures shown per behavioural test', '5')
    .action(async (ref: string, opts: TestFlags, cmd: Command) => {
      const flags = cmd.optsWithGlobals<GlobalFlags>();
      const examples = Number(opts.examples);
      if (!Number.isInteger(examples) || examples < 0)
        throw new SapphireError('BAD_INPUT', `--examples ${opts.examples} is not a whole number ≥ 0`, {
          hint: 'e.g. --examples 10',
        });
      await withProject(flags, [], async (ctx) => {
        const target = await loadModelUnderTest(ctx.store, ref, process.cwd());
        let result: ModelTestsResult;
        try {
          result = await runModelTests({
            store: ctx.store,
            card: ctx.card,
            model: target.model,
            modelDir: target.modelDir,
            runId: target.runId,
            projectDir: ctx.dir,
            earmarksFile: opts.earmarks === undefined ? undefined : resolve(opts.earmarks),
            behaviour: opts.behaviour ? undefined : false,
            examplesPerTest: examples,
            command: ['sapphire', ...process.argv.slice(2)].join(' '),
          });
        } finally {
          await target.dispose();
        }
        if (flags.json) printJson({ ...result, run: result.run.id });
        else say(renderResult(result, process.cwd()));
        if (!result.passed) process.exitCode = 1;
      });
    });
}
