/**
 * deploy/monitoring: the Prometheus alerting rules and the Grafana dashboard parse, and every metric they name is
 * in the real server's /metrics output (after predictions, feedback and an override hit, so labelled series exist).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { buildServer } from '../../src/serve/server.ts';
import { createTestProject, registerTiny, type TestProject } from '../serve/helpers.ts';

const DEPLOY = join(import.meta.dirname, '..', '..', 'deploy', 'monitoring');

/** Series Prometheus itself makes (not exported by the server). */
const PROMETHEUS_SERIES = new Set(['up']);

/** Metric names in a PromQL expression: identifiers followed by `{`, `[`, `)` … but not functions or labels. */
function metricsIn(expr: string): string[] {
  const withoutStrings = expr.replace(/"[^"]*"/g, '""');
  const names = new Set<string>();
  for (const m of withoutStrings.matchAll(/\b([a-z_][a-z0-9_]*)\b(?!\s*\()/g)) {
    const name = m[1]!;
    if (/^(sapphire|process|nodejs)_/.test(name) || PROMETHEUS_SERIES.has(name)) names.add(name);
  }
  return [...names];
}

/** The metric families a /metrics text declares (`# TYPE name kind`), with histogram series names added. */
function exposedNames(text: string): Set<string> {
  const names = new Set<string>(PROMETHEUS_SERIES);
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(m[1]!);
    if (m[2] === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(`${m[1]}${s}`);
  }
  return names;
}

describe('deploy/monitoring', () => {
  let project: TestProject;
  let exposed: Set<string>;

  before(async () => {
    project = await createTestProject('classify', 'deploy-check');
    await registerTiny(project, { name: 'shop', alias: 'production' });
    const server = await buildServer({
      store: project.store,
      card: project.card,
      projectDir: project.dir,
      auth: false,
      pollIntervalMs: 60_000,
    });
    try {
      await server.ready;
      const predicted = await server.app.inject({
        method: 'POST',
        url: '/v1/models/shop/predict',
        payload: { texts: ['where is my card', 'top up please'] },
      });
      assert.equal(predicted.statusCode, 200, predicted.body);
      const metrics = await server.app.inject({ method: 'GET', url: '/metrics' });
      assert.equal(metrics.statusCode, 200, metrics.body);
      exposed = exposedNames(metrics.body);
    } finally {
      await server.close();
    }
  });

  after(async () => project.cleanup());

  test('alerts.yaml: every rule has a name, an expression over real metrics, and a summary', () => {
    const doc = parse(readFileSync(join(DEPLOY, 'alerts.yaml'), 'utf8')) as {
      groups: { name: string; rules: { alert: string; expr: string; annotations: { summary: string } }[] }[];
    };
    const alerts = doc.groups.flatMap((g) => g.rules);
    const names = alerts.map((r) => r.alert);
    for (const wanted of [
      'SapphireDown',
      'SapphireNotReady',
      'SapphireP99LatencyOverBudget',
      'SapphireErrorRateOverBudget',
      'SapphireDriftDetected',
      'SapphireThumbsUpRateDrop',
      'SapphireOverrideHitRateRising',
      'SapphireMemoryGrowth',
    ])
      assert.ok(names.includes(wanted), `alert ${wanted} is defined`);
    for (const rule of alerts) {
      assert.ok(rule.annotations?.summary, `${rule.alert} has a summary`);
      const used = metricsIn(rule.expr);
      assert.ok(used.length > 0, `${rule.alert} names a metric`);
      for (const name of used) assert.ok(exposed.has(name), `${rule.alert}: ${name} is in /metrics`);
    }
  });

  test('grafana-dashboard.json: every panel query names real metrics', () => {
    const dashboard = JSON.parse(readFileSync(join(DEPLOY, 'grafana-dashboard.json'), 'utf8')) as {
      uid: string;
      panels: { title: string; targets: { expr: string }[] }[];
    };
    assert.equal(dashboard.uid, 'sapphire-models');
    assert.ok(dashboard.panels.length >= 10, 'the dashboard has its panels');
    const used = new Set<string>();
    for (const panel of dashboard.panels)
      for (const target of panel.targets) {
        const names = metricsIn(target.expr);
        assert.ok(names.length > 0, `${panel.title}: ${target.expr} names a metric`);
        for (const name of names) {
          assert.ok(exposed.has(name), `${panel.title}: ${name} is in /metrics`);
          used.add(name);
        }
      }
    for (const name of ['sapphire_drift_score', 'sapphire_feedback_total', 'sapphire_override_hits_total'])
      assert.ok(used.has(name), `the dashboard shows ${name}`);
  });
});
