/**
 * The deployment files in deploy/ (no cluster here): every manifest parses, the references between them resolve,
 * and the probes, paths, ports and commands match what the server and the worker really answer and accept.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Command } from 'commander';
import { parse, parseAllDocuments } from 'yaml';
import { registerQueueCommands } from '../../src/cli/commands/queue.ts';
import { problemCardSchema } from '../../src/core/project.ts';
import { buildServer } from '../../src/serve/server.ts';
import { openStore } from '../../src/store/open-store.ts';
import { REPO } from '../cli/helpers.ts';

// Parsed YAML of arbitrary shape: the assertions below are the schema.
// biome-ignore lint/suspicious/noExplicitAny: manifests are untyped documents
type Doc = Record<string, any>;
const K8S = join(REPO, 'deploy', 'k8s');

function manifests(): { file: string; doc: Doc }[] {
  const out: { file: string; doc: Doc }[] = [];
  for (const file of readdirSync(K8S).filter((f) => f.endsWith('.yaml'))) {
    for (const document of parseAllDocuments(readFileSync(join(K8S, file), 'utf8'))) {
      assert.deepEqual(document.errors, [], `${file} parses`);
      out.push({ file, doc: document.toJS() as Doc });
    }
  }
  return out;
}

function find(kind: string, name: string): Doc {
  const hit = manifests().find((m) => m.doc.kind === kind && m.doc.metadata?.name === name);
  assert.ok(hit, `deploy/k8s has a ${kind} named ${name}`);
  return hit.doc;
}

function container(deployment: Doc): Doc {
  const [first] = deployment.spec.template.spec.containers as Doc[];
  assert.ok(first, `${deployment.metadata.name} has a container`);
  return first;
}

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

test('every manifest parses, names itself, and the kustomization lists every file', () => {
  const all = manifests();
  for (const { file, doc } of all) {
    assert.equal(typeof doc.apiVersion, 'string', `${file}: apiVersion`);
    assert.equal(typeof doc.kind, 'string', `${file}: kind`);
    if (doc.kind !== 'Kustomization')
      assert.equal(typeof doc.metadata?.name, 'string', `${file}: metadata.name`);
  }
  const kustomization = all.find((m) => m.doc.kind === 'Kustomization');
  assert.ok(kustomization, 'a kustomization.yaml');
  const listed = [...(kustomization.doc.resources as string[])].sort();
  const files = readdirSync(K8S)
    .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
    .sort();
  assert.deepEqual(listed, files);
});

test('the server Deployment: probes on /healthz and /readyz at the port the server listens on, behind the Service and the HPA', async () => {
  const deployment = find('Deployment', 'sapphire-server');
  const server = container(deployment);
  const args = server.args as string[];
  assert.equal(args[0], 'serve');
  assert.equal(flag(args, '--host'), '0.0.0.0', 'listens on every interface inside the pod');
  const http = (server.ports as Doc[]).find((p) => p.name === 'http');
  assert.ok(http, 'a port named http');
  assert.equal(Number(flag(args, '--port')), http.containerPort, 'the server listens on the container port');
  assert.equal(server.livenessProbe.httpGet.path, '/healthz');
  assert.equal(server.readinessProbe.httpGet.path, '/readyz');
  for (const probe of [server.livenessProbe, server.readinessProbe, server.startupProbe])
    assert.equal(probe.httpGet.port, 'http', 'probes use the named port');

  const service = find('Service', 'sapphire-server');
  assert.deepEqual(service.spec.selector, {
    'app.kubernetes.io/name': deployment.spec.template.metadata.labels['app.kubernetes.io/name'],
  });
  assert.equal(service.spec.ports[0].targetPort, 'http');
  const selector = deployment.spec.selector.matchLabels as Record<string, string>;
  for (const [k, v] of Object.entries(selector))
    assert.equal(deployment.spec.template.metadata.labels[k], v, 'the Deployment selects its own pods');

  const hpa = find('HorizontalPodAutoscaler', 'sapphire-server');
  assert.equal(hpa.spec.scaleTargetRef.kind, 'Deployment');
  assert.equal(hpa.spec.scaleTargetRef.name, 'sapphire-server');
  assert.ok(hpa.spec.minReplicas >= 2 && hpa.spec.maxReplicas > hpa.spec.minReplicas, 'a real range');
  assert.ok(server.resources.requests.cpu, 'CPU requests, which the HPA scales on');

  // The paths exist on the real server (not 404); /healthz answers 200 at once.
  const dir = await mkdtemp(join(tmpdir(), 'sapphire-deploy-'));
  const store = await openStore({ projectDir: dir });
  const card = problemCardSchema.parse({ name: 'x', task: 'classify', labels: ['a', 'b'] });
  const built = await buildServer({ store, card, projectDir: dir, logger: false });
  try {
    assert.equal((await built.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
    const ready = await built.app.inject({ method: 'GET', url: '/readyz' });
    assert.ok([200, 503].includes(ready.statusCode), `/readyz answers (${ready.statusCode})`);
  } finally {
    await built.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('config and secrets: every reference resolves and the mounted project card is valid', () => {
  const secret = find('Secret', 'sapphire-secrets');
  const secretKeys = new Set(Object.keys(secret.stringData ?? secret.data ?? {}));
  for (const key of ['SAPPHIRE_STORE', 'SAPPHIRE_QUEUE', 'SAPPHIRE_API_KEY'])
    assert.ok(secretKeys.has(key), `the Secret holds ${key}`);
  const project = find('ConfigMap', 'sapphire-project');
  problemCardSchema.parse(parse(project.data['sapphire.yaml']));
  const env = find('ConfigMap', 'sapphire-env');
  for (const name of ['sapphire-server', 'sapphire-worker']) {
    const deployment = find('Deployment', name);
    const c = container(deployment);
    for (const ref of c.envFrom ?? []) assert.equal(ref.configMapRef.name, env.metadata.name);
    for (const variable of c.env ?? []) {
      const ref = variable.valueFrom?.secretKeyRef;
      if (!ref) continue;
      assert.equal(ref.name, 'sapphire-secrets');
      assert.ok(secretKeys.has(ref.key), `${name}: ${variable.name} comes from a key the Secret has`);
    }
    assert.ok(
      (c.env as Doc[]).some((v) => v.name === 'SAPPHIRE_STORE'),
      `${name} gets the shared store from the Secret`,
    );
    const volumes = new Set((deployment.spec.template.spec.volumes as Doc[]).map((v) => v.name));
    for (const mount of c.volumeMounts) assert.ok(volumes.has(mount.name), `${name}: volume ${mount.name}`);
    const card = (c.volumeMounts as Doc[]).find((m) => m.mountPath === '/project/sapphire.yaml');
    assert.ok(card, `${name} mounts the project card where the image looks for it`);
  }
});

test('the worker Deployment runs `sapphire worker` with flags the command accepts, and the queue from the Secret', () => {
  const worker = container(find('Deployment', 'sapphire-worker'));
  const args = worker.args as string[];
  assert.equal(args[0], 'worker');
  const program = new Command();
  registerQueueCommands(program);
  const command = program.commands.find((c) => c.name() === 'worker');
  assert.ok(command, 'the CLI has a worker command');
  const known = new Set(command.options.map((o) => o.long));
  for (const arg of args.filter((a) => a.startsWith('--')))
    assert.ok(known.has(arg), `worker accepts ${arg}`);
  assert.ok(
    (worker.env as Doc[]).some((v) => v.name === 'SAPPHIRE_QUEUE'),
    'the worker gets the queue from the Secret',
  );
});

test('the Dockerfile exposes the port the server Deployment uses and runs the CLI', () => {
  const dockerfile = readFileSync(join(REPO, 'deploy', 'Dockerfile'), 'utf8');
  const port = container(find('Deployment', 'sapphire-server')).ports[0].containerPort;
  assert.match(dockerfile, new RegExp(`^EXPOSE ${port}$`, 'm'));
  assert.match(dockerfile, /^ENTRYPOINT .*bin\/sapphire\.js.*--project", "\/project"\]$/m);
  assert.match(
    dockerfile,
    new RegExp(`^CMD \\["serve", "--host", "0\\.0\\.0\\.0", "--port", "${port}"\\]$`, 'm'),
  );
  assert.match(dockerfile, /^FROM node:20/m, 'the Node version the project supports');
});
