/** Text views of the coach for people: `sapphire status` and `sapphire next`. */
import { renderTable } from '../../core/table.ts';
import type { BestRunFacts, ProjectState } from './project-state.ts';
import type { Recommendation } from './recommend.ts';
import { type LoopStage, MILESTONE_CRITERIA, type MilestoneAssessment } from './stage.ts';

const fmt = (value: number | null | undefined): string =>
  typeof value === 'number' && Number.isFinite(value) ? value.toFixed(4) : '–';

function settingsText(settings: Record<string, unknown>): string {
  const entries = Object.entries(settings);
  if (entries.length === 0) return 'defaults';
  return entries.map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
}

function bestRunLines(best: BestRunFacts, primary: string): string[] {
  const lines = [
    `Best run ${best.id} (${best.kind}): ${best.architecture} on ${best.datasetVersion ?? '?'}, ranked by ${best.rankedBy}`,
  ];
  const scores = [`train ${fmt(best.train)}`, `dev ${fmt(best.dev)}`, `test ${fmt(best.test)}`];
  if (best.heldout !== null) scores.push(`heldout ${fmt(best.heldout)}`);
  lines.push(
    `  ${primary}: ${scores.join(' · ')}${best.trainSeconds !== null ? ` · trained in ${best.trainSeconds.toFixed(1)} s` : ''}`,
  );
  const sizes = [
    best.trainExamples !== null ? `train ${best.trainExamples}` : null,
    best.devExamples !== null ? `dev ${best.devExamples}` : null,
    best.testExamples !== null ? `test ${best.testExamples}` : null,
  ].filter(Boolean);
  if (sizes.length) lines.push(`  examples: ${sizes.join(' · ')}`);
  if (best.selection?.fraction !== null && best.selection?.fraction !== undefined)
    lines.push(`  trained on ${Math.round(best.selection.fraction * 1000) / 10}% of the train split`);
  lines.push(`  settings (changed from defaults): ${settingsText(best.changedSettings)}`);
  if (best.configFile) lines.push(`  config: ${best.configFile}`);
  return lines;
}

/**
 * `sapphire status`: the loop as a ✓/✗ checklist with its numbers, the best run, and the milestone reached with
 * the criterion of every milestone.
 *
 * @example
 * say(renderStatus(state, loopStages(state), assessMilestone(state)));
 */
export function renderStatus(
  state: ProjectState,
  stages: LoopStage[],
  milestone: MilestoneAssessment,
): string {
  const { card } = state;
  const lines: string[] = [];
  const acceptance = card.threshold === null ? 'no acceptance threshold' : `acceptance ≥ ${card.threshold}`;
  lines.push(`Project ${card.name} (${card.task}) · primary metric ${card.primary} · ${acceptance}`, '');
  lines.push('Loop');
  lines.push(
    renderTable(
      stages.map((s) => [s.done ? '✓' : '✗', s.id, s.detail]),
      { header: ['', 'step', 'where it stands'], align: ['left', 'left', 'left'] },
    ),
  );
  lines.push('');
  if (state.best) lines.push(...bestRunLines(state.best, card.primary), '');
  else lines.push('No model run yet.', '');
  const total = MILESTONE_CRITERIA.length;
  lines.push(
    milestone.reached
      ? `Milestone ${milestone.reached} of ${total}: ${milestone.name}`
      : `Milestone 0 of ${total}: not started`,
  );
  for (const c of milestone.checks) {
    lines.push(`  ${c.met ? '✓' : '✗'} ${c.level} ${c.name}: ${c.evidence}`);
    if (!c.met) lines.push(`      needs: ${c.criterion}`);
  }
  const skipped = milestone.checks.filter((c) => c.met && c.level > milestone.reached + 1);
  if (skipped.length)
    lines.push(
      `  (milestone${skipped.length === 1 ? '' : 's'} ${skipped.map((c) => c.level).join(', ')} met too, but ${milestone.reached + 1} comes first)`,
    );
  lines.push('', 'Run `sapphire next` for what to do next.');
  return lines.join('\n');
}

function evidenceText(evidence: Record<string, number>): string {
  return Object.entries(evidence)
    .map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(4)}`)
    .join(' · ');
}

/**
 * `sapphire next`: the recommendations, most urgent first, each with its reasoning, its numbers and the command
 * to run.
 *
 * @example
 * say(renderRecommendations(recommend(state), state));
 */
export function renderRecommendations(recs: Recommendation[], state: ProjectState): string {
  const lines: string[] = [];
  if (state.best)
    lines.push(
      `Based on ${state.best.id} (${state.best.architecture}, ${state.best.rankedBy} ${fmt(state.best.score)}) and ${state.runs.finished} finished run${state.runs.finished === 1 ? '' : 's'}.`,
      '',
    );
  if (recs.length === 0) {
    lines.push('Nothing to recommend: every check passes.');
    return lines.join('\n');
  }
  recs.forEach((rec, i) => {
    lines.push(`${i + 1}. [P${rec.priority}] ${rec.title}`);
    lines.push(`   ${rec.why}`);
    const evidence = evidenceText(rec.evidence);
    if (evidence) lines.push(`   numbers: ${evidence}`);
    if (rec.command) lines.push(`   run: ${rec.command}`);
    rec.alternatives.forEach((alt, j) => {
      lines.push(`   ${rec.command || j > 0 ? 'or: ' : 'do: '} ${alt}`);
    });
    lines.push('');
  });
  return lines.join('\n').trimEnd();
}
