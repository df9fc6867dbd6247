/** ServeMetrics: every series of the issue appears in the Prometheus text, in a registry of its own. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { register as globalRegistry } from 'prom-client';
import { ServeMetrics } from '../../src/serve/metrics.ts';

describe('ServeMetrics', () => {
  test('the text exposition has every series with its labels', async () => {
    const metrics = new ServeMetrics();
    const labels = { tenant: 'acme', model: 'intents', version: 3 };
    metrics.observeRequest(labels, 0.002, 4);
    metrics.observeRequest(labels, 0.004, 1);
    metrics.observeError('/v1/models/:name/predict', 'DATA_INVALID', 422);
    metrics.observeResult('intents', 3, {
      labels: [{ label: 'top_up', score: 0.8 }],
      overrides: [],
    });
    metrics.observeResult('shop-ner', 1, {
      entities: [{ start: 0, end: 4, text: 'Nike', label: 'BRAND', score: 1, override: 'ov_1' }],
      overrides: [{ id: 'ov_1', action: 'always', label: 'BRAND', target: 'entity' }],
    });
    metrics.overrideHit('shop-ner', 'ov_1', 'always');
    metrics.feedback('intents', 3, 'up');
    metrics.feedback('intents', null, 'none');
    metrics.modelsLoaded(2);
    metrics.modelLoadFailed('acme', 'intents', 4);
    const text = await metrics.render();
    for (const line of [
      'sapphire_requests_total{tenant="acme",model="intents",version="3"} 2',
      'sapphire_request_duration_seconds_count{model="intents",version="3"} 2',
      'sapphire_request_duration_seconds_bucket{le="0.0025",model="intents",version="3"} 1',
      'sapphire_batch_size_sum{model="intents",version="3"} 5',
      'sapphire_errors_total{route="/v1/models/:name/predict",code="DATA_INVALID",status="422"} 1',
      'sapphire_predicted_labels_total{model="intents",version="3",label="top_up"} 1',
      'sapphire_predicted_labels_total{model="shop-ner",version="1",label="BRAND"} 1',
      'sapphire_prediction_confidence_count{model="intents",version="3"} 1',
      'sapphire_override_hits_total{model="shop-ner",rule="ov_1",action="always"} 1',
      'sapphire_feedback_total{model="intents",version="3",rating="up"} 1',
      'sapphire_feedback_total{model="intents",version="",rating="none"} 1',
      'sapphire_models_loaded 2',
      'sapphire_model_load_errors_total{tenant="acme",model="intents",version="4"} 1',
    ]) {
      assert.ok(text.includes(line), `missing: ${line}`);
    }
    assert.ok(text.includes('process_cpu_user_seconds_total'), 'process metrics are included');
    assert.match(metrics.contentType, /^text\/plain/);
  });

  test('two instances never share series, and nothing lands in the global registry', async () => {
    const a = new ServeMetrics({ defaultMetrics: false });
    const b = new ServeMetrics({ defaultMetrics: false });
    a.observeRequest({ tenant: 't', model: 'm', version: 1 }, 0.001, 1);
    assert.ok((await a.render()).includes('sapphire_requests_total{tenant="t",model="m",version="1"} 1'));
    assert.ok(!(await b.render()).includes('sapphire_requests_total{'), 'b has no request series');
    assert.ok(!(await globalRegistry.metrics()).includes('sapphire_'), 'the global registry stays empty');
  });
});
