/** Real ports: buildServer listening on port 0, and `sapphire serve` drained by SIGTERM. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { buildServer } from '../../src/serve/server.ts';
import { openStore } from '../../src/store/open-store.ts';
import { createTestProject, registerTiny, type TestProject } from './helpers.ts';

const REPO = resolve(import.meta.dirname, '..', '..');

let project: TestProject;

before(async () => {
  project = await createTestProject('classify');
  await registerTiny(project, { name: 'intents', alias: 'production' });
});

after(async () => {
  await project.cleanup();
});

describe('real port', () => {
  test('listens on a free port and answers /healthz and predict over HTTP', async () => {
    const server = await buildServer({
      store: project.store,
      card: project.card,
      projectDir: project.dir,
      auth: false,
    });
    try {
      await server.app.listen({ port: 0, host: '127.0.0.1' });
      await server.ready;
      const { port } = server.app.server.address() as AddressInfo;
      const base = `http://127.0.0.1:${port}`;
      const health = await fetch(`${base}/healthz`);
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { status: 'ok' });
      const res = await fetch(`${base}/v1/models/intents/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: 'top up my account' }),
      });
      assert.equal(res.status, 200);
      const body = (await res.json()) as { requestId: string; result: { labels: { label: string }[] } };
      assert.equal(body.result.labels[0]!.label, 'top_up');
      assert.equal(res.headers.get('x-request-id'), body.requestId);
    } finally {
      await server.close();
    }
  });
});

describe('drain', () => {
  test('close() lets a request in flight finish, then refuses new connections', async () => {
    const server = await buildServer({
      store: project.store,
      card: project.card,
      projectDir: project.dir,
      auth: false,
    });
    let received: () => void = () => {};
    const inFlight = new Promise<void>((r) => {
      received = r;
    });
    server.app.addHook('preHandler', async (request) => {
      if (request.url.endsWith('/predict')) {
        received();
        await new Promise((r) => setTimeout(r, 200));
      }
    });
    try {
      await server.app.listen({ port: 0, host: '127.0.0.1' });
      await server.ready;
      const { port } = server.app.server.address() as AddressInfo;
      const pending = fetch(`http://127.0.0.1:${port}/v1/models/intents/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: 'top up my account' }),
      });
      await inFlight;
      const closed = server.close();
      assert.equal(server.ctx.draining, true, '/readyz turns 503 at once');
      const res = await pending;
      assert.equal(res.status, 200, 'the request in flight finished');
      await closed;
      await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`), 'no new connections after close');
    } finally {
      await server.close();
    }
  });
});

describe('sapphire serve', () => {
  test('prints one JSON line when ready, serves, and exits 0 on SIGTERM after flushing the log', async () => {
    // The CLI opens the store itself: hand the project over.
    await project.store.close();
    const child = spawn(
      process.execPath,
      [
        join(REPO, 'bin', 'sapphire.js'),
        '--json',
        'serve',
        '--port',
        '0',
        '--no-auth',
        '--log-level',
        'silent',
      ],
      { cwd: project.dir, env: { ...process.env, SAPPHIRE_STORE: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += String(d);
    });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      const lines = createInterface({ input: child.stdout });
      const first = await new Promise<string>((r, reject) => {
        lines.once('line', r);
        child.once('exit', () => reject(new Error(`serve exited early: ${stderr}`)));
      });
      const info = JSON.parse(first) as {
        url: string;
        port: number;
        ready: boolean;
        auth: boolean;
        models: unknown[];
      };
      assert.equal(info.ready, true);
      assert.equal(info.auth, false);
      assert.ok(info.port > 0, 'a free port was picked');
      assert.deepEqual(info.models, [
        { tenant: 'default', name: 'intents', version: 1, architecture: 'linear.v1', runtime: 'native' },
      ]);
      const res = await fetch(`${info.url}/v1/models/intents/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': 'smoke-test-request-1' },
        body: JSON.stringify({ text: 'exchange rate today' }),
      });
      assert.equal(res.status, 200);
      child.kill('SIGTERM');
      assert.equal(await exited, 0, `serve exits 0 on SIGTERM (stderr: ${stderr})`);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    const store = await openStore({ projectDir: project.dir });
    try {
      const logged = await store.feedback.getLoggedPrediction('default', 'smoke-test-request-1', 0);
      assert.equal(logged?.text, 'exchange rate today', 'the request log was flushed before exit');
    } finally {
      project.store = store;
    }
  });

  test('a SIGTERM while the models still load drains and exits 0 too', async () => {
    await project.store.close();
    const child = spawn(
      process.execPath,
      [join(REPO, 'bin', 'sapphire.js'), 'serve', '--port', '0', '--no-auth', '--log-level', 'silent'],
      { cwd: project.dir, env: { ...process.env, SAPPHIRE_STORE: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += String(d);
    });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      const lines = createInterface({ input: child.stdout });
      lines.on('line', (line) => {
        stdout += `${line}\n`;
      });
      // "Serving … at <url>" is printed once listening, before the production models are loaded.
      await new Promise<void>((r, reject) => {
        lines.once('line', () => r());
        child.once('exit', () => reject(new Error(`serve exited early: ${stderr}`)));
      });
      child.kill('SIGTERM');
      assert.equal(await exited, 0, `serve drains and exits 0 (stderr: ${stderr})`);
      assert.match(stderr, /Stopped\./, 'it stopped through the drain');
      assert.doesNotMatch(stdout, /Ready\./, 'nothing announces readiness after the stop');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      project.store = await openStore({ projectDir: project.dir });
    }
  });
});
