/**
 * HTTP serving speed: `sapphire serve` (a separate process, API keys on, request log sampling as configured)
 * under autocannon load, in the same run: the trivial `GET /healthz` route (the server's ceiling), then
 * `POST /v1/models/{name}/predict` with the linear classifier (Banking77) and with the CRF (MIT Restaurant), one
 * text per request cycled over the test texts. Then each predict route again at 50% of its peak rate for the p50/p99
 * latency under moderate load.
 *
 * Run: `node --import tsx bench/serve-throughput.ts [--seconds 10] [--connections 32] [--log-sample 1]`
 * (writes bench/results/serve-throughput.json and prints a markdown table).
 *
 * `--compare-monitoring [--rounds 2]`: only the linear route, with live monitoring on and off side by side
 * (`monitoring.enabled=true|false`, alternating servers — on first in odd rounds, off first in even ones — each at peak and at a fixed rate), written to
 * bench/results/serve-monitoring.json.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { initProject } from '../src/core/project.ts';
import { readDataset } from '../src/data/formats/index.ts';
import type { Example } from '../src/data/types.ts';
import { createModel } from '../src/models/index.ts';
import { registerModelVersion } from '../src/registry/register.ts';
import { openStore } from '../src/store/open-store.ts';
import { DEFAULT_TENANT, PRODUCTION_ALIAS } from '../src/store/serving-store.ts';
import { buildReferenceProfile, saveReferenceProfile } from '../src/train/reference-profile.ts';
import { type PacedRequest, type PacedResult, pacedLoad } from './paced-load.ts';
import { loadLine, machineInfo, writeResult } from './results-file.ts';

const REPO = resolve(import.meta.dirname, '..');
const DATASETS = process.env.SAPPHIRE_DATASETS ?? join(REPO, '..', 'shared', 'datasets');
const args = process.argv.slice(2);
function flag(name: string, fallback: string): string {
  const i = args.indexOf(name);
  return i >= 0 ? (args[i + 1] as string) : fallback;
}
const SECONDS = Number(flag('--seconds', '10'));
const CONNECTIONS = Number(flag('--connections', '32'));
/**
 * Generator of the fixed-rate (50% of peak) runs: `paced` (default, bench/paced-load.ts: open loop, one request every
 * 1/rate s, latency from the scheduled time) or `autocannon` (its `connectionRate`: each connection sends its
 * quota for the second at full speed, then waits, so half the peak rate is full load for half of every second).
 */
const RATE_GENERATOR = flag('--rate-generator', 'paced');
/** Connections of the fixed-rate runs (at 50% of peak, fewer than two requests are in flight on average). */
const RATE_CONNECTIONS = Number(flag('--rate-connections', '16'));
const LOG_SAMPLE = Number(flag('--log-sample', '1'));
/** Extra `sapphire serve` flags, e.g. `--serve-args "--no-auth"` (to measure what a part of the path costs). */
const SERVE_ARGS = flag('--serve-args', '').split(' ').filter(Boolean);
/** `--profile <dir>`: write a V8 CPU profile of the server process into this folder. */
const PROFILE_DIR = args.includes('--profile') ? resolve(flag('--profile', 'bench/results/profile')) : null;
const COMPARE_MONITORING = args.includes('--compare-monitoring');
/** `--no-floor`: skip the bare-Fastify reference (bench/fastify-floor.mjs) after the server's own routes. */
const NO_FLOOR = args.includes('--no-floor');
const ROUNDS = Number(flag('--rounds', '2'));
/**
 * `--pin`: the server runs on CPU 1 only (`taskset`) and this process (autocannon) on CPU 0 only, so client and
 * server do not take each other's core; the ceiling is then one core's worth of server.
 */
const PIN = args.includes('--pin');
/** `--models majority,linear`: only these of majority, linear and crf (default all three). */
const MODELS = flag('--models', 'majority,linear,crf').split(',');

interface LoadResult {
  route: string;
  /** CPU time the server process spent per request (user + system), in µs: its cost independent of the client. */
  serverCpuUsPerRequest: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: number;
  non2xx: number;
  rate: number | null;
}

async function read(file: string, task: 'classify' | 'ner'): Promise<Example[]> {
  const options =
    task === 'classify'
      ? { format: 'csv' as const, textColumn: 'text', labelColumn: 'category', task }
      : { format: 'conll' as const, task };
  const { examples } = await readDataset(file, options as never);
  return examples;
}

async function trainAndSave(
  architecture: string,
  config: Record<string, unknown>,
  train: Example[],
  dir: string,
  reference: Example[],
): Promise<void> {
  const model = createModel(architecture, config);
  const start = performance.now();
  await model.fit(train, undefined, { seed: 1 });
  console.error(
    `trained ${architecture} on ${train.length} examples in ${((performance.now() - start) / 1000).toFixed(1)} s`,
  );
  await model.save(dir);
  // The reference profile `sapphire train` saves, so live monitoring does its full work (OOV, new tokens).
  const predictions = model.predict(reference.map((e) => ({ text: e.text })));
  await saveReferenceProfile(
    dir,
    buildReferenceProfile({
      task: model.task,
      architecture,
      train,
      reference: { name: 'test', examples: reference, predictions },
    }),
  );
}

/**
 * Spawns `node <args>` in `cwd` (on CPU 1 with --pin) and resolves with its URL once it prints a JSON line with
 * one (`sapphire serve --json` and bench/fastify-floor.mjs both do).
 */
async function spawnListening(args: string[], cwd: string): Promise<{ url: string; child: ChildProcess }> {
  const command = [...(PIN ? ['taskset', '-c', '1'] : []), process.execPath, ...args];
  const child = spawn(command[0]!, command.slice(1), {
    cwd,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    try {
      const ready = JSON.parse(line) as { url?: string };
      if (ready.url) return { url: ready.url, child };
    } catch {
      // not the ready line
    }
  }
  throw new Error(`${args.join(' ')} exited before it was ready`);
}

/** Starts `sapphire serve --port 0 --json` and resolves with its URL once it prints the ready line. */
function startServer(
  projectDir: string,
  extra: string[] = [],
): Promise<{ url: string; child: ChildProcess }> {
  return spawnListening(
    [
      ...(PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : []),
      join(REPO, 'bin', 'sapphire.js'),
      'serve',
      '--port',
      '0',
      '--json',
      '--log-sample',
      String(LOG_SAMPLE),
      ...SERVE_ARGS,
      ...extra,
    ],
    projectDir,
  );
}

/** User + system CPU seconds a process has used so far (Linux /proc). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

let serverPid = 0;

/** A latency for the table: autocannon's are whole ms, the paced generator's are rounded to 0.1 ms. */
const ms = (value: number): string => (Number.isInteger(value) ? String(value) : value.toFixed(1));

async function load(
  url: string,
  route: string,
  bodies: string[] | null,
  key: string,
  rate: number | null,
): Promise<LoadResult> {
  // One prebuilt request per body: the generators cycle through them without rebuilding (a setupRequest callback
  // would make the load generator, not the server, the bottleneck).
  const requests = bodies
    ? bodies.map((body) => ({ method: 'POST' as const, path: route, body }))
    : [{ method: 'GET' as const, path: route }];
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  const cpuBefore = cpuSeconds(serverPid);
  const measured =
    rate && RATE_GENERATOR === 'paced'
      ? await pacedLoad({ url, rate, seconds: SECONDS, connections: RATE_CONNECTIONS, headers, requests })
      : await autocannonLoad(url, headers, requests, rate);
  return {
    ...measured,
    serverCpuUsPerRequest: ((cpuSeconds(serverPid) - cpuBefore) / Math.max(1, measured.sent)) * 1e6,
    route: `${bodies ? 'POST' : 'GET'} ${route}`,
    rate,
  };
}

/** autocannon at peak (or at `rate` with its per-connection rate, which sends each second's quota in a burst). */
async function autocannonLoad(
  url: string,
  headers: Record<string, string>,
  requests: PacedRequest[],
  rate: number | null,
): Promise<Omit<PacedResult, 'p90Ms'>> {
  const result = await autocannon({
    url,
    connections: rate ? RATE_CONNECTIONS : CONNECTIONS,
    duration: SECONDS,
    ...(rate ? { connectionRate: Math.max(1, Math.round(rate / RATE_CONNECTIONS)) } : {}),
    headers,
    requests,
  });
  return {
    sent: result.requests.total,
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

async function main(): Promise<void> {
  const projectDir = mkdtempSync(join(tmpdir(), 'sapphire-serve-bench-'));
  let server: ChildProcess | null = null;
  try {
    initProject(projectDir, { name: 'serve-bench', task: 'classify' });
    const banking = join(DATASETS, 'classify', 'banking77');
    const mit = join(DATASETS, 'ner', 'mit_restaurant');
    const [bankTrain, bankTest, mitTrain, mitTest] = await Promise.all([
      read(join(banking, 'train.csv'), 'classify'),
      read(join(banking, 'test.csv'), 'classify'),
      read(join(mit, 'restauranttrain.bio'), 'ner'),
      read(join(mit, 'restauranttest.bio'), 'ner'),
    ]);
    await trainAndSave('linear.v1', {}, bankTrain, join(projectDir, 'linear'), bankTest);
    if (PIN) execFileSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
    if (!COMPARE_MONITORING && MODELS.includes('crf')) {
      await trainAndSave('crf.v1', { maxIterations: 40 }, mitTrain, join(projectDir, 'crf'), mitTest);
      // A model that costs nothing: what the serving path itself (auth, validation, overrides, metrics, log) costs.
    }
    if (!COMPARE_MONITORING && MODELS.includes('majority'))
      await trainAndSave('majority.v1', {}, bankTrain, join(projectDir, 'majority'), bankTest);

    const store = await openStore({ projectDir });
    let key: string;
    try {
      for (const name of COMPARE_MONITORING ? ['linear'] : MODELS) {
        const version = await registerModelVersion(store, {
          tenant: DEFAULT_TENANT,
          source: join(projectDir, name),
          name: `bench-${name}`,
          actor: 'bench',
          cwd: projectDir,
        });
        await store.registry.setAlias(DEFAULT_TENANT, version.name, PRODUCTION_ALIAS, version.version);
      }
      // The benchmark measures the server, not the per-tenant rate limit (6,000 requests a minute by default).
      await store.tenants.updateTenant(DEFAULT_TENANT, { rateLimitPerMinute: 1_000_000_000 });
      key = (await store.tenants.createApiKey({ tenant: DEFAULT_TENANT, scope: 'predict' })).key;
    } finally {
      await store.close();
    }

    if (COMPARE_MONITORING) {
      await compareMonitoring(projectDir, key, bankTest);
      return;
    }
    const started = await startServer(projectDir);
    server = started.child;
    serverPid = started.child.pid!;
    const { url } = started;
    const bodies = (examples: Example[]) =>
      examples.slice(0, 500).map((e) => JSON.stringify({ text: e.text }));
    const linearBodies = bodies(bankTest);
    const crfBodies = bodies(mitTest);
    // Warm-up: JIT and caches.
    await load(
      url,
      `/v1/models/bench-${MODELS[0]}/predict`,
      MODELS[0] === 'crf' ? crfBodies : linearBodies,
      key,
      null,
    );

    const results: LoadResult[] = [];
    const healthz = await load(url, '/healthz', null, key, null);
    results.push(healthz);
    for (const [name, route, b] of [
      ['majority', '/v1/models/bench-majority/predict', linearBodies],
      ['linear', '/v1/models/bench-linear/predict', linearBodies],
      ['crf', '/v1/models/bench-crf/predict', crfBodies],
    ] as const) {
      if (!MODELS.includes(name)) continue;
      const peak = await load(url, route, [...b], key, null);
      results.push(peak);
      const half = Math.max(1, Math.round(peak.requestsPerSecond / 2));
      results.push(await load(url, route, [...b], key, half));
      console.error(`${name}: ${peak.requestsPerSecond.toFixed(0)} req/s peak`);
    }

    server.kill('SIGTERM');
    await new Promise((r) => server!.once('exit', r));
    server = null;
    const floor = NO_FLOOR ? [] : await measureFloor(linearBodies);

    const ceiling = healthz.requestsPerSecond;
    const rows = results.map((r) => ({
      ...r,
      ofHealthz: r.requestsPerSecond / ceiling,
    }));
    const floorRows = floor.map((r) => ({
      ...r,
      ofHealthz: r.requestsPerSecond / floor[0]!.requestsPerSecond,
    }));
    const output = {
      date: new Date().toISOString(),
      cpus: cpus().length,
      cpu: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      seconds: SECONDS,
      connections: CONNECTIONS,
      rateGenerator: RATE_GENERATOR,
      rateConnections: RATE_CONNECTIONS,
      pinned: PIN,
      logSample: LOG_SAMPLE,
      command: `node --import tsx bench/serve-throughput.ts ${args.join(' ')}`.trim(),
      results: rows,
      floor: floorRows,
    };
    writeFileSync(
      join(REPO, 'bench', 'results', 'serve-throughput.json'),
      `${JSON.stringify(output, null, 2)}\n`,
    );
    console.log(
      '| route | load | req/s | of /healthz | server CPU µs/request | p50 ms | p99 ms | max ms | errors |',
    );
    console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of [...rows, ...floorRows.map((f) => ({ ...f, route: `bare Fastify: ${f.route}` }))])
      console.log(
        `| ${r.route} | ${r.rate ? `${r.rate} req/s (50% of peak), ${RATE_GENERATOR}` : `peak, ${CONNECTIONS} connections`} | ${r.requestsPerSecond.toFixed(0)} | ${(r.ofHealthz * 100).toFixed(0)}% | ${r.serverCpuUsPerRequest.toFixed(0)} | ${ms(r.p50Ms)} | ${ms(r.p99Ms)} | ${ms(r.maxMs)} | ${r.errors + r.non2xx} |`,
      );
  } finally {
    server?.kill('SIGTERM');
    rmSync(projectDir, { recursive: true, force: true });
  }
}

/**
 * The same loads against bench/fastify-floor.mjs (a bare Fastify app, started like the server): its GET /healthz
 * and its do-nothing JSON POST, to show what share of a GET any Fastify POST reaches on this machine.
 */
async function measureFloor(bodies: string[]): Promise<LoadResult[]> {
  const { url, child } = await spawnListening([join(REPO, 'bench', 'fastify-floor.mjs')], REPO);
  try {
    serverPid = child.pid!;
    await load(url, '/predict', bodies, '', null); // warm-up
    const healthz = await load(url, '/healthz', null, '', null);
    const post = await load(url, '/predict', bodies, '', null);
    return [healthz, post];
  } finally {
    child.kill('SIGTERM');
  }
}

/** The linear route with live monitoring on and off, alternating fresh servers, at peak and at a fixed rate. */
async function compareMonitoring(projectDir: string, key: string, test: Example[]): Promise<void> {
  const route = '/v1/models/bench-linear/predict';
  const bodies = test.slice(0, 500).map((e) => JSON.stringify({ text: e.text }));
  const rows: (LoadResult & { monitoring: boolean; round: number })[] = [];
  let fixedRate: number | null = null;
  for (let round = 1; round <= ROUNDS; round++)
    // The order alternates by round, so the first-server-of-a-round effects hit both settings alike.
    for (const monitoring of round % 2 ? [true, false] : [false, true]) {
      const started = await startServer(projectDir, [`monitoring.enabled=${monitoring}`]);
      serverPid = started.child.pid!;
      try {
        await load(started.url, route, bodies, key, null); // warm-up
        const peak = await load(started.url, route, bodies, key, null);
        fixedRate ??= Math.max(1, Math.round(peak.requestsPerSecond / 2));
        const fixed = await load(started.url, route, bodies, key, fixedRate);
        rows.push({ ...peak, monitoring, round }, { ...fixed, monitoring, round });
        console.error(
          `round ${round}, monitoring ${monitoring ? 'on' : 'off'}: ${peak.requestsPerSecond.toFixed(0)} req/s`,
        );
      } finally {
        started.child.kill('SIGTERM');
        await new Promise((r) => started.child.once('exit', r));
      }
    }
  const mean = (on: boolean, fixed: boolean, pick: (r: LoadResult) => number) => {
    const chosen = rows.filter((r) => r.monitoring === on && (r.rate !== null) === fixed);
    return chosen.reduce((s, r) => s + pick(r), 0) / chosen.length;
  };
  const summary = {
    peakReqPerSecond: {
      on: mean(true, false, (r) => r.requestsPerSecond),
      off: mean(false, false, (r) => r.requestsPerSecond),
    },
    cpuUsPerRequest: {
      on: mean(true, false, (r) => r.serverCpuUsPerRequest),
      off: mean(false, false, (r) => r.serverCpuUsPerRequest),
    },
    fixedRateP50Ms: { on: mean(true, true, (r) => r.p50Ms), off: mean(false, true, (r) => r.p50Ms) },
    fixedRateP99Ms: { on: mean(true, true, (r) => r.p99Ms), off: mean(false, true, (r) => r.p99Ms) },
  };
  const output = {
    ...machineInfo(),
    seconds: SECONDS,
    connections: CONNECTIONS,
    rateGenerator: RATE_GENERATOR,
    rateConnections: RATE_CONNECTIONS,
    pinned: PIN,
    rounds: ROUNDS,
    fixedRate,
    command: `node --import tsx bench/serve-throughput.ts ${args.join(' ')}`.trim(),
    summary,
    results: rows,
  };
  writeResult('serve-monitoring', output);
  console.log(loadLine());
  console.log('| linear.v1 predict | monitoring on | monitoring off | on / off |');
  console.log('|---|---:|---:|---:|');
  for (const [name, v, digits] of [
    ['peak req/s', summary.peakReqPerSecond, 0],
    ['server CPU µs/request (peak)', summary.cpuUsPerRequest, 0],
    [`p50 ms at ${fixedRate} req/s`, summary.fixedRateP50Ms, 2],
    [`p99 ms at ${fixedRate} req/s`, summary.fixedRateP99Ms, 2],
  ] as const)
    console.log(
      `| ${name} | ${v.on.toFixed(digits)} | ${v.off.toFixed(digits)} | ${(v.on / v.off).toFixed(3)} |`,
    );
}

await main();
