import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** Where the built web app lives: `ui/dist`, committed with the package (ADR 0010). */
export const UI_DIST_DIR = fileURLToPath(new URL('../../ui/dist', import.meta.url));

/** The path the web app is served under. */
export const UI_PREFIX = '/ui';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(path));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/**
 * Serves the built web app at `/ui` from memory: the files of `dist` (read once at start), hashed assets cached
 * for a year, and `index.html` (never cached) for `/ui`, `/ui/` and every page path without a file extension, so
 * deep links such as `/ui/runs` work. Without a built app `/ui` answers 503 with how to build it.
 *
 * @example
 * installUi(app); // GET /ui → the app
 */
export function installUi(app: FastifyInstance, dist = UI_DIST_DIR): void {
  const files = new Map<string, { body: Buffer; type: string }>();
  if (existsSync(join(dist, 'index.html')) && statSync(dist).isDirectory()) {
    for (const path of listFiles(dist)) {
      const name = relative(dist, path).split(sep).join('/');
      files.set(name, { body: readFileSync(path), type: TYPES[extname(path)] ?? 'application/octet-stream' });
    }
  }
  const send = (reply: FastifyReply, name: string) => {
    const file = files.get(name);
    if (!file) return false;
    void reply
      .type(file.type)
      .header(
        'cache-control',
        name.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
      )
      .header('x-content-type-options', 'nosniff')
      .send(file.body);
    return true;
  };
  const index = (reply: FastifyReply) => {
    if (send(reply, 'index.html')) return reply;
    return reply
      .status(503)
      .type('text/plain; charset=utf-8')
      .send('The web app is not built: run `npm run build:ui` in the sapphire package.');
  };
  app.get(UI_PREFIX, { schema: { hide: true } }, (_request, reply) => reply.redirect(`${UI_PREFIX}/`));
  app.get(`${UI_PREFIX}/*`, { schema: { hide: true } }, (request, reply) => {
    const name = (request.params as { '*': string })['*'];
    if (name === '' || !extname(name)) return index(reply);
    if (send(reply, name)) return reply;
    return reply.status(404).type('text/plain; charset=utf-8').send(`no such file: ${UI_PREFIX}/${name}`);
  });
}
