/**
 * Acceptance test of issue 6 (productize), end to end through the real binary: a project trains two models,
 * registers them, promotes the good one, is refused promotion of the worse one (with the gate's numbers), then
 * `sapphire serve` runs on a real port: predict, a "never" override applied and marked, feedback posted and read
 * back through the API and in `/metrics`, tenant isolation, and a clean drain on SIGTERM.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { createRng } from '../../src/core/rng.ts';
import { REPO, sapphire, sapphireJson, tempDir } from './helpers.ts';

const INTENTS: Record<string, { verbs: string[]; objects: string[] }> = {
  refund: { verbs: ['refund', 'return', 'reimburse'], objects: ['my order', 'these shoes', 'the jacket'] },
  track: { verbs: ['track', 'trace', 'locate'], objects: ['my parcel', 'the delivery', 'my package'] },
  cancel: { verbs: ['cancel', 'stop', 'abort'], objects: ['my subscription', 'the order', 'my plan'] },
};

/** 240 short requests, 80 per intent, from templates (deterministic). */
function intentsJsonl(): string {
  const rng = createRng(7);
  const lines: string[] = [];
  const openers = ['please', 'can you', 'i want to', 'help me', 'how do i', 'i need to'];
  for (const [label, { verbs, objects }] of Object.entries(INTENTS)) {
    for (let i = 0; i < 80; i++) {
      const text = `${openers[rng.int(openers.length)]} ${verbs[rng.int(verbs.length)]} ${objects[rng.int(objects.length)]} ${i}`;
      lines.push(JSON.stringify({ text, labels: [label] }));
    }
  }
  return `${lines.join('\n')}\n`;
}

let dir = '';
let server: ChildProcess | null = null;
let url = '';
let defaultKey = '';
let acmeKey = '';

before(() => {
  dir = tempDir('sapphire-serve-e2e-');
  writeFileSync(
    join(dir, 'sapphire.yaml'),
    [
      'name: intents',
      'task: classify',
      'labels: [refund, track, cancel]',
      'metrics: { primary: macro_f1 }',
      'promotion: { dataset: "requests:test", latency: { p99Ms: 1000, samples: 50 } }',
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'requests.jsonl'), intentsJsonl());
  writeFileSync(
    join(dir, 'linear.yaml'),
    'model: { architecture: linear.v1 }\ndata: { dataset: requests }\nseed: 13\noutput: models/linear\n',
  );
  writeFileSync(
    join(dir, 'majority.yaml'),
    'model: { architecture: majority.v1 }\ndata: { dataset: requests }\nseed: 13\noutput: models/majority\n',
  );
});

after(() => {
  server?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function ok(args: string[]): string {
  const run = sapphire(dir, ...args);
  assert.equal(run.code, 0, `sapphire ${args.join(' ')} failed: ${run.stderr}`);
  return run.stdout;
}

test('registry: the good model is promoted, the worse one refused with the gate numbers', () => {
  ok(['data', 'import', 'requests.jsonl', '--name', 'requests']);
  ok(['data', 'split', 'requests', '--ratios', '0.6,0.2,0.2']);
  const good = sapphireJson<{ run: string }>(dir, 'train', 'linear.yaml').run;
  const bad = sapphireJson<{ run: string }>(dir, 'train', 'majority.yaml').run;
  const v1 = sapphireJson<{ version: number }>(dir, 'models', 'register', good, '--name', 'intents');
  assert.equal(v1.version, 1, 'the first registration is version 1');
  const v2 = sapphireJson<{ version: number }>(dir, 'models', 'register', bad, '--name', 'intents');
  assert.equal(v2.version, 2, 'the second registration is version 2');

  ok(['promote', 'intents@1', '--to', 'production']);
  const refused = sapphire(dir, 'promote', 'intents@2', '--to', 'production');
  assert.equal(refused.code, 1, `a worse model must be refused: ${refused.stdout}${refused.stderr}`);
  const output = refused.stdout + refused.stderr;
  assert.match(output, /macro_f1/, 'the refusal names the gate metric');
  assert.match(output, /\d\.\d{3}/, 'the refusal prints the numbers');
  assert.match(output, /p\s*[<=]/, 'the refusal prints the significance test');

  const shown = sapphireJson<{ aliases: Record<string, number> }>(dir, 'models', 'show', 'intents');
  assert.equal(shown.aliases.production, 1, 'production still points at version 1');
});

test('tenants: keys for the default tenant and for acme', () => {
  ok(['tenants', 'add', 'acme']);
  defaultKey = sapphireJson<{ key: string }>(dir, 'tenants', 'key', 'default', '--scope', 'admin').key;
  acmeKey = sapphireJson<{ key: string }>(dir, 'tenants', 'key', 'acme', '--scope', 'admin').key;
  assert.match(defaultKey, /^sk_default_/, 'keys name their tenant');
  assert.match(acmeKey, /^sk_acme_/, 'keys name their tenant');
});

test('serve: starts on a real port and becomes ready', async () => {
  server = spawn(process.execPath, [join(REPO, 'bin', 'sapphire.js'), 'serve', '--port', '0', '--json'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SAPPHIRE_STORE: '' },
  });
  let stderr = '';
  server.stderr?.on('data', (chunk) => {
    stderr += String(chunk);
  });
  const lines = createInterface({ input: server.stdout! });
  for await (const line of lines) {
    const parsed = (() => {
      try {
        return JSON.parse(line) as { url?: string };
      } catch {
        return {};
      }
    })();
    if (parsed.url) {
      url = parsed.url;
      break;
    }
  }
  assert.ok(url, `the server printed its URL (stderr: ${stderr})`);
  for (let i = 0; i < 100; i++) {
    const ready = await fetch(`${url}/readyz`);
    if (ready.status === 200) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal((await fetch(`${url}/readyz`)).status, 200, 'ready after the production model is loaded');
  assert.equal((await fetch(`${url}/healthz`)).status, 200, 'alive');
});

async function call(
  method: string,
  path: string,
  key: string | null,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

type Served = {
  requestId: string;
  model: { name: string; version: number };
  result: { labels: { label: string; override?: string }[]; overrides: { id: string; action: string }[] };
};

test('predict, a never-override applied and marked, feedback read back, metrics, tenant isolation', async () => {
  const text = 'please refund my order 3';
  const first = await call('POST', '/v1/models/intents/predict', defaultKey, { text });
  assert.equal(first.status, 200, JSON.stringify(first.body));
  const served = first.body as unknown as Served;
  assert.equal(served.model.version, 1, 'the production version answers');
  assert.equal(served.result.labels[0]?.label, 'refund', 'the model predicts the intent');
  assert.deepEqual(served.result.overrides, [], 'no override yet');

  assert.equal(
    (await call('POST', '/v1/models/intents/predict', null, { text })).status,
    401,
    'a key is needed',
  );

  const rule = await call('POST', '/v1/models/intents/overrides', defaultKey, {
    action: 'never',
    match: 'phrase',
    pattern: 'refund my order',
    target: 'class',
    label: 'refund',
    note: 'refunds for orders go to a human',
  });
  assert.equal(rule.status, 201, JSON.stringify(rule.body));
  const ruleId = rule.body.id as string;

  let overridden: Served | null = null;
  for (let i = 0; i < 50 && !overridden; i++) {
    const again = (await call('POST', '/v1/models/intents/predict', defaultKey, { text }))
      .body as unknown as Served;
    if (again.result.overrides.length > 0) overridden = again;
    else await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(overridden, 'the new override is picked up without a restart');
  assert.notEqual(overridden.result.labels[0]?.label, 'refund', 'never give this answer');
  assert.deepEqual(
    overridden.result.overrides.map((o) => [o.id, o.action]),
    [[ruleId, 'never']],
    'the response says which rule changed it',
  );

  const feedback = await call('POST', '/v1/feedback', defaultKey, {
    requestId: overridden.requestId,
    rating: 'down',
    correction: { labels: ['refund'] },
  });
  assert.equal(feedback.status, 201, JSON.stringify(feedback.body));
  const listed = await call('GET', '/v1/feedback?model=intents', defaultKey);
  const items = (listed.body.feedback ?? listed.body.items ?? listed.body) as {
    id: string;
    rating: string;
  }[];
  assert.ok(Array.isArray(items), `feedback list is an array: ${JSON.stringify(listed.body)}`);
  assert.deepEqual(
    items.map((f) => [f.id, f.rating]),
    [[feedback.body.id, 'down']],
    'the feedback is read back',
  );

  const metrics = await (await fetch(`${url}/metrics`)).text();
  assert.match(metrics, /sapphire_feedback_total\{[^}]*rating="down"[^}]*\} 1/, 'feedback is counted');
  assert.match(metrics, /sapphire_override_hits_total\{[^}]*\} [1-9]/, 'override hits are counted');
  assert.match(metrics, /sapphire_requests_total\{[^}]*model="intents"[^}]*\} [1-9]/, 'requests are counted');

  // Tenant isolation: acme's key sees none of the default tenant's models, overrides or feedback.
  assert.equal(
    (await call('POST', '/v1/models/intents/predict', acmeKey, { text })).status,
    404,
    "acme cannot use the default tenant's model",
  );
  assert.equal(
    (await call('GET', '/v1/models/intents/overrides', acmeKey)).status,
    404,
    'nor read its overrides',
  );
  assert.equal(
    (await call('DELETE', `/v1/models/intents/overrides/${ruleId}`, acmeKey)).status,
    404,
    'nor remove them',
  );
  const acmeFeedback = await call('POST', '/v1/feedback', acmeKey, {
    requestId: overridden.requestId,
    rating: 'up',
  });
  assert.equal(acmeFeedback.status, 404, "acme cannot give feedback on the default tenant's request");
  const acmeList = await call('GET', '/v1/feedback', acmeKey);
  const acmeItems = (acmeList.body.feedback ?? acmeList.body.items ?? acmeList.body) as unknown[];
  assert.deepEqual(acmeItems, [], "acme sees none of the default tenant's feedback");
  const still = (await call('GET', '/v1/models/intents/overrides', defaultKey)).body;
  const rules = (still.overrides ?? still) as { id: string }[];
  assert.deepEqual(
    rules.map((r) => r.id),
    [ruleId],
    "the default tenant's override is untouched",
  );
});

test('SIGTERM drains and exits 0', async () => {
  assert.ok(server, 'the server is running');
  const exited = new Promise<number | null>((resolve) => server!.once('exit', (code) => resolve(code)));
  server!.kill('SIGTERM');
  assert.equal(await exited, 0, 'a clean exit after draining');
  server = null;
});
