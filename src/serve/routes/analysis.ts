import type { FastifyRequest } from 'fastify';
import {
  type AnalysisReport,
  analyzeModel,
  loadAnalysisData,
  loadRunModel,
  loadTrainingExamples,
} from '../../analysis/analyze.ts';
import { inputOf } from '../../analysis/bug-checks.ts';
import { type BrowsedError, listErrors } from '../../analysis/error-list.ts';
import { runModelTests, TEST_REPORT_ARTIFACT } from '../../analysis/model-tests.ts';
import { resolveRunId } from '../../experiments/run-query.ts';
import type { Run } from '../../store/store.ts';
import type { RoutePlugin } from '../context.ts';
import { objectSchema, requireProjectAdmin } from '../project-access.ts';

/** Analyses kept in memory (by run, data and dataset version): the page asks again when filters change. */
const CACHED_ANALYSES = 16;

interface AnalysisQuery {
  data?: string;
}

function defaultData(run: Run): string {
  const version = run.datasetVersions[0];
  if (!version) return '';
  const data = run.config.data as { dev?: unknown } | undefined;
  return `${version}:${typeof data?.dev === 'string' ? data.dev : 'dev'}`;
}

/**
 * Error analysis for the UI: `GET /v1/runs/{id}/analysis?data=name:split` (`sapphire analyze` of the run's
 * model: confusion, per-label, slices with lagging ones flagged, error taxonomy, howlers, label-noise suspects, and
 * every error for the error browser),
 * `GET /v1/runs/{id}/tests` (the newest earmark and behavioural test report of the run's model) and
 * `POST /v1/runs/{id}/tests` (runs them now, recorded as a `test` run, like `sapphire test`).
 *
 * @example
 * await app.register((scope) => analysisRoutes(scope, ctx));
 */
export const analysisRoutes: RoutePlugin = (app, ctx) => {
  const { store, card } = ctx;
  const cache = new Map<string, Promise<{ report: AnalysisReport; errors: BrowsedError[] }>>();

  app.get(
    '/v1/runs/:id/analysis',
    {
      schema: {
        tags: ['analysis'],
        summary: "Error analysis of a run's model on a dataset split (`sapphire analyze`)",
        params: { type: 'object', properties: { id: { type: 'string' } } },
        querystring: {
          type: 'object',
          properties: {
            data: { type: 'string', description: "dataset[:split]; default: the run's dataset, dev split" },
          },
        },
        response: {
          200: objectSchema('the analysis report', {
            run: { type: 'string' },
            data: { type: 'string' },
            report: { type: 'object', additionalProperties: true },
            errors: {
              type: 'array',
              description:
                'every error with kind, gold, predicted, confidence and slices; most confident first',
              items: { type: 'object', additionalProperties: true },
            },
          }),
        },
      },
    },
    async (request: FastifyRequest<{ Params: { id: string }; Querystring: AnalysisQuery }>) => {
      requireProjectAdmin(ctx, request);
      const run = await store.getRun(await resolveRunId(store, request.params.id));
      const data = await loadAnalysisData(store, request.query.data ?? defaultData(run));
      const key = JSON.stringify([run.id, data.version.id, data.split]);
      let report = cache.get(key);
      if (!report) {
        report = (async () => {
          const target = await loadRunModel(store, run.id);
          const train = target.training ? await loadTrainingExamples(store, target.training) : null;
          const predictions = target.model.predict(data.examples.map(inputOf));
          const analysis = await analyzeModel({
            model: target.model,
            predictions,
            task: card.task,
            labels: card.labels,
            primary: card.metrics.primary,
            examples: data.examples,
            ...(train ? { train } : {}),
            slices: card.slices,
            minSliceExamples: 1,
          });
          return { report: analysis, errors: listErrors(card.task, data.examples, predictions, card.slices) };
        })();
        report.catch(() => cache.delete(key));
        cache.set(key, report);
        if (cache.size > CACHED_ANALYSES) cache.delete(cache.keys().next().value!);
      }
      const { report: analysis, errors } = await report;
      return {
        run: run.id,
        data: `${data.version.id}${data.split ? `:${data.split}` : ''}`,
        report: analysis,
        errors,
      };
    },
  );

  const testsSchema = objectSchema('the test report (null when the model was never tested)', {
    run: { type: ['string', 'null'] },
    report: { type: ['object', 'null'], additionalProperties: true },
  });

  app.get(
    '/v1/runs/:id/tests',
    {
      schema: {
        tags: ['analysis'],
        summary: "The newest earmark and behavioural test report of a run's model",
        params: { type: 'object', properties: { id: { type: 'string' } } },
        response: { 200: testsSchema },
      },
    },
    async (request: FastifyRequest<{ Params: { id: string } }>) => {
      requireProjectAdmin(ctx, request);
      const id = await resolveRunId(store, request.params.id);
      const tests = (await store.listRuns({ kind: 'test', status: 'finished' })).filter(
        (r) => r.config.trainingRun === id,
      );
      for (const test of tests) {
        const artifact = (await store.listRunArtifacts(test.id)).find((a) => a.name === TEST_REPORT_ARTIFACT);
        if (!artifact) continue;
        const report = JSON.parse(
          Buffer.from(await store.getArtifact(artifact.hash)).toString('utf8'),
        ) as unknown;
        return { run: test.id, report };
      }
      return { run: null, report: null };
    },
  );

  app.post(
    '/v1/runs/:id/tests',
    {
      schema: {
        tags: ['analysis'],
        summary: "Runs the project's earmarks and behavioural tests on a run's model (`sapphire test`)",
        params: { type: 'object', properties: { id: { type: 'string' } } },
        response: { 200: testsSchema },
      },
    },
    async (request: FastifyRequest<{ Params: { id: string } }>) => {
      requireProjectAdmin(ctx, request);
      const id = await resolveRunId(store, request.params.id);
      const target = await loadRunModel(store, id);
      const result = await runModelTests({
        store,
        card,
        model: target.model,
        runId: target.run,
        projectDir: ctx.options.projectDir,
        command: `POST /v1/runs/${id}/tests`,
      });
      const { run, ...report } = result;
      return { run: run.id, report };
    },
  );
};
