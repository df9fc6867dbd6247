/**
 * Several server replicas share one PostgreSQL store and model registry: a promotion through one server's API is
 * served by the other within a few seconds (its model pool polls the aliases — ADR 0006).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { writeProblemCard } from '../../src/core/project.ts';
import { promoteVersion } from '../../src/registry/promotion.ts';
import { registerModelVersion } from '../../src/registry/register.ts';
import { openStore } from '../../src/store/open-store.ts';
import { trainModel } from '../../src/train/train.ts';
import { trainConfigSchema } from '../../src/train/train-config.ts';
import { REPO } from '../cli/helpers.ts';
import {
  freshPgStore,
  PG_URL,
  tempFolder,
  topicCard,
  topicConfig,
  topicExamples,
} from '../jobs/scale-out-helpers.ts';

async function startServer(dir: string, storeUri: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [join(REPO, 'bin', 'sapphire.js'), '--store', storeUri, 'serve', '--port', '0', '--json', '--no-auth'],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SAPPHIRE_STORE: '' } },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += String(chunk);
  });
  for await (const line of createInterface({ input: child.stdout as NodeJS.ReadableStream })) {
    try {
      const parsed = JSON.parse(line) as { url?: string };
      if (parsed.url) return { child, url: parsed.url };
    } catch {
      // a log line
    }
  }
  throw new Error(`the server exited before it was ready: ${stderr}`);
}

async function servedVersion(url: string): Promise<number> {
  const response = await fetch(`${url}/v1/models/topics/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text: 'we saw a red bus' }),
  });
  const body = (await response.json()) as { model?: { version?: number } };
  assert.equal(response.status, 200, JSON.stringify(body));
  return body.model?.version as number;
}

test('two servers on different ports share the PostgreSQL store: promoting on one changes what the other serves', {
  skip: PG_URL
    ? false
    : 'set SAPPHIRE_TEST_PG_URL to run it: export SAPPHIRE_TEST_PG_URL=$(bash scripts/start-postgres.sh)',
  timeout: 180_000,
}, async () => {
  const pgStore = await freshPgStore();
  const project = await tempFolder('sapphire-shared-serve-');
  const servers: ChildProcess[] = [];
  try {
    writeProblemCard(project.dir, topicCard);
    const store = await openStore({ uri: pgStore.uri, projectDir: project.dir });
    try {
      await store.putDatasetVersion({
        name: 'topics',
        examples: topicExamples(20),
        operation: { kind: 'import', params: {} },
      });
      const base = { tenant: 'default', name: 'topics', actor: 'user:test' };
      const configs = [
        topicConfig(),
        trainConfigSchema.parse({ model: { architecture: 'majority.v1' }, data: { dataset: 'topics' } }),
      ];
      for (const config of configs) {
        const trained = await trainModel({
          store,
          card: topicCard,
          config,
          projectDir: project.dir,
          writeModelDir: false,
        });
        await registerModelVersion(store, { ...base, source: trained.run.id, cwd: project.dir });
      }
      const first = await promoteVersion({
        ...base,
        card: topicCard,
        store,
        projectDir: project.dir,
        ref: 'topics@1',
        force: true,
        reason: 'test setup',
      });
      assert.ok(first.promoted, 'v1 is production');
    } finally {
      await store.close();
    }
    const a = await startServer(project.dir, pgStore.uri);
    servers.push(a.child);
    const b = await startServer(project.dir, pgStore.uri);
    servers.push(b.child);
    assert.notEqual(a.url, b.url, 'two ports');
    assert.equal(await servedVersion(a.url), 1);
    assert.equal(await servedVersion(b.url), 1);

    const promoted = await fetch(`${a.url}/v1/models/topics/promote`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ version: 2, force: true, reason: 'shared-store test' }),
    });
    assert.equal(promoted.status, 200, await promoted.clone().text());

    let seen = 1;
    const deadline = Date.now() + 10_000;
    while (seen !== 2 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      seen = await servedVersion(b.url);
    }
    assert.equal(seen, 2, 'server B serves the version promoted through server A within a few seconds');
    assert.equal(await servedVersion(a.url), 2);
  } finally {
    for (const child of servers) child.kill('SIGKILL');
    await pgStore.cleanup();
    await project.cleanup();
  }
});
