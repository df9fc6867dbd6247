/**
 * Shared setup of the API route tests (auth, tenancy, admin routes): a classify project in a temp folder with a
 * store, a tiny intents dataset, trained runs, registered models, tenants with keys, and an in-process server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { type ProblemCard, problemCardSchema } from '../../src/core/project.ts';
import { createRng } from '../../src/core/rng.ts';
import type { Example } from '../../src/data/types.ts';
import '../../src/models/index.ts';
import { registerModelVersion } from '../../src/registry/register.ts';
import type { ServeContext, ServeOptions } from '../../src/serve/context.ts';
import { buildServer } from '../../src/serve/server.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { ApiKeyScope, ModelVersion } from '../../src/store/serving-store.ts';
import type { Store } from '../../src/store/store.ts';
import { trainModel } from '../../src/train/train.ts';
import { trainConfigSchema } from '../../src/train/train-config.ts';

/** The intents every fixture model predicts. */
export const LABELS = ['refund', 'track', 'cancel'] as const;

const INTENTS: Record<(typeof LABELS)[number], { verbs: string[]; objects: string[] }> = {
  refund: { verbs: ['refund', 'return', 'reimburse'], objects: ['my order', 'these shoes', 'the jacket'] },
  track: { verbs: ['track', 'trace', 'locate'], objects: ['my parcel', 'the delivery', 'my package'] },
  cancel: { verbs: ['cancel', 'stop', 'abort'], objects: ['my subscription', 'the order', 'my plan'] },
};

/** `perLabel` short requests per intent from templates (deterministic), split 60/20/20 into train/dev/test. */
export function intentExamples(perLabel = 60): Example[] {
  const rng = createRng(7);
  const openers = ['please', 'can you', 'i want to', 'help me', 'how do i', 'i need to'];
  const examples: Example[] = [];
  for (const label of LABELS) {
    const { verbs, objects } = INTENTS[label];
    for (let i = 0; i < perLabel; i++) {
      const text = `${openers[rng.int(openers.length)]} ${verbs[rng.int(verbs.length)]} ${objects[rng.int(objects.length)]} ${i}`;
      const split = i % 5 === 3 ? 'dev' : i % 5 === 4 ? 'test' : 'train';
      examples.push({ id: `${label}-${i}`, text, labels: [label], split, meta: {} });
    }
  }
  return examples;
}

/** A project folder with an open store and the intents card. */
export interface Project {
  dir: string;
  store: Store;
  card: ProblemCard;
  close(): Promise<void>;
}

/** Creates a temp project with the `requests` dataset imported (remove it with `close()`). */
export async function openProject(): Promise<Project> {
  const dir = mkdtempSync(join(tmpdir(), 'sapphire-api-'));
  const store = await openStore({ projectDir: dir });
  await store.putDatasetVersion({
    name: 'requests',
    examples: intentExamples(),
    operation: { kind: 'import', params: {} },
  });
  const card = problemCardSchema.parse({
    name: 'intents',
    task: 'classify',
    labels: [...LABELS],
    metrics: { primary: 'macro_f1' },
    promotion: { dataset: 'requests:test', latency: { p99Ms: 1000, samples: 20 } },
  });
  return {
    dir,
    store,
    card,
    async close() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Trains a model on `requests` and returns its run id (`linear.v1` is good, `majority.v1` is bad). */
export async function trainRun(project: Project, architecture: 'linear.v1' | 'majority.v1'): Promise<string> {
  const config = trainConfigSchema.parse({
    model: { architecture },
    data: { dataset: 'requests' },
    seed: 13,
  });
  const result = await trainModel({
    store: project.store,
    card: project.card,
    config,
    projectDir: project.dir,
    writeModelDir: false,
    evaluateTrain: false,
  });
  return result.run.id;
}

/** Registers a trained run as the next version of `name` for a tenant. */
export function register(
  project: Project,
  tenant: string,
  name: string,
  runId: string,
): Promise<ModelVersion> {
  return registerModelVersion(project.store, {
    tenant,
    source: runId,
    name,
    actor: 'user:test',
    cwd: project.dir,
  });
}

/** Creates a tenant (unless it is `default`) and an API key of the given scope; returns the plain key. */
export async function tenantKey(
  project: Project,
  tenant: string,
  scope: ApiKeyScope,
  rateLimitPerMinute?: number,
): Promise<string> {
  const existing = (await project.store.tenants.listTenants()).some((t) => t.id === tenant);
  if (!existing)
    await project.store.tenants.createTenant({ id: tenant, rateLimitPerMinute: rateLimitPerMinute ?? null });
  else if (rateLimitPerMinute !== undefined)
    await project.store.tenants.updateTenant(tenant, { rateLimitPerMinute });
  return (await project.store.tenants.createApiKey({ tenant, scope, label: 'test' })).key;
}

/** A running in-process server over the project (not listening on a port). */
export interface Server {
  app: FastifyInstance;
  ctx: ServeContext;
  close(): Promise<void>;
}

/** Builds the server over the project and waits until it is ready. */
export async function startServer(project: Project, options: Partial<ServeOptions> = {}): Promise<Server> {
  const built = await buildServer({
    store: project.store,
    card: project.card,
    projectDir: project.dir,
    logger: false,
    pollIntervalMs: 50,
    ...options,
  });
  await built.ready;
  return { app: built.app, ctx: built.ctx, close: () => built.close() };
}

/** A JSON response of `app.inject`. */
export interface Reply {
  status: number;
  headers: Record<string, unknown>;
  // biome-ignore lint/suspicious/noExplicitAny: test responses are read field by field
  body: any;
}

/** Calls the API in-process with an optional API key and JSON body. */
export async function call(
  app: FastifyInstance,
  method: 'GET' | 'POST' | 'DELETE',
  url: string,
  key: string | null,
  body?: unknown,
): Promise<Reply> {
  const response = await app.inject({
    method,
    url,
    headers: key ? { authorization: `Bearer ${key}` } : {},
    ...(body === undefined ? {} : { payload: body as Record<string, unknown> }),
  });
  const text = response.body;
  return {
    status: response.statusCode,
    headers: response.headers,
    body: text && response.headers['content-type']?.toString().includes('json') ? JSON.parse(text) : text,
  };
}
