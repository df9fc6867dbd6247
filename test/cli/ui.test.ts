/** `sapphire ui`: the real CLI starts the server on 127.0.0.1 without keys and prints the web app's URL. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { REPO, sapphire, tempDir } from './helpers.ts';

test('sapphire ui prints the URL; the app and the project API answer without a key; SIGTERM stops it', async () => {
  const dir = tempDir();
  assert.equal(sapphire(dir, 'init', '--task', 'classify').code, 0);
  const child = spawn(process.execPath, [join(REPO, 'bin', 'sapphire.js'), 'ui', '--port', '0'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SAPPHIRE_STORE: '' },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += String(chunk);
  });
  try {
    let ui: string | null = null;
    for await (const line of createInterface({ input: child.stdout! })) {
      const found = /^Web UI: (http:\/\/127\.0\.0\.1:\d+\/ui\/)$/.exec(line);
      if (found) {
        ui = found[1]!;
        break;
      }
    }
    assert.ok(ui, `printed the UI URL (stderr: ${stderr})`);
    const page = await fetch(ui);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<div id="app">/);
    const project = await fetch(new URL('/v1/project', ui));
    assert.equal(project.status, 200, 'no key needed on 127.0.0.1');
    assert.match(stderr, /API keys are off \(local use\)/);
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, `exit code after SIGTERM (stderr: ${stderr})`);
  }
});

test('sapphire ui refuses to serve without keys beyond this machine', () => {
  const dir = tempDir();
  assert.equal(sapphire(dir, 'init', '--task', 'classify').code, 0);
  const run = sapphire(dir, 'ui', '--host', '0.0.0.0', '--port', '0');
  assert.notEqual(run.code, 0);
  assert.match(run.stderr, /without API keys listens on this machine only/);
  assert.match(run.stderr, /--auth/);
});
