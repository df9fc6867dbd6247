import type { AddressInfo } from 'node:net';
import { type Command, Option } from 'commander';
import { SapphireError } from '../../core/errors.ts';
import type { ServedModel, ServeRuntime } from '../../serve/context.ts';
import { buildServer } from '../../serve/server.ts';
import { openProject } from '../context.ts';
import { type GlobalFlags, note, say, splitOverrides } from '../output.ts';

interface ServeFlags {
  port?: string;
  host?: string;
  auth: boolean;
  logSample?: string;
  logLevel: string;
  runtime?: string;
}

/** Hosts that only this machine can reach: the UI may run without API keys there. */
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new SapphireError('BAD_INPUT', `--port must be an integer from 0 to 65535, got "${value}"`, {
      hint: 'use e.g. --port 8080, or --port 0 for any free port',
    });
  return port;
}

function parseShare(value: string): number {
  const share = Number(value);
  if (!Number.isFinite(share) || share < 0 || share > 1)
    throw new SapphireError('BAD_INPUT', `--log-sample must be a number from 0 to 1, got "${value}"`, {
      hint: 'e.g. --log-sample 0.1 logs one request in ten (usage counts stay exact)',
    });
  return share;
}

function urlOf(address: AddressInfo): string {
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

function describeModel(m: ServedModel): string {
  return `${m.version.tenant}/${m.version.name}@${m.version.version} (${m.version.architecture})`;
}

/** Registers `sapphire serve`: the HTTP service, until SIGTERM/SIGINT drains it. */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description(
      "serve the registered models over HTTP (predict, overrides, feedback, health, metrics; docs at /docs); defaults from sapphire.yaml's serve: section",
    )
    .option('--port <port>', 'port to listen on (0: any free port, printed)')
    .option('--host <host>', 'address to listen on (0.0.0.0 for every interface)')
    .option('--no-auth', 'serve the default tenant without API keys (local use only)')
    .option('--log-sample <share>', 'share of predictions written to the prediction log, 0..1')
    .addOption(
      new Option(
        '--runtime <runtime>',
        'where models score: native, or onnx (onnxruntime-node; default serve.runtime)',
      ).choices(['native', 'onnx']),
    )
    .option('--log-level <level>', 'server log level on stderr: fatal|error|warn|info|debug|silent', 'info')
    .argument('[overrides...]', 'key.path=value overrides of sapphire.yaml, e.g. serve.pollIntervalMs=500')
    .addHelpText(
      'after',
      '\nPrints the URL and the loaded models (with --json: one line of JSON once ready). SIGTERM or SIGINT stops\n' +
        'taking requests (/readyz answers 503), lets the requests in flight finish, flushes the request log and exits 0.',
    )
    .action(serveAction('serve'));
}

/** Registers `sapphire ui`: the same server, on 127.0.0.1 without API keys by default, printing the web app's URL. */
export function registerUiCommand(program: Command): void {
  program
    .command('ui')
    .description(
      'open the web UI of this project: starts the server on 127.0.0.1 (no API keys) and prints the URL',
    )
    .option('--port <port>', "port to listen on (default: sapphire.yaml's serve.port; 0: any free port)")
    .option(
      '--host <host>',
      'address to listen on; anything but 127.0.0.1/localhost/::1 needs --auth',
      '127.0.0.1',
    )
    .option('--auth', 'require API keys (the page asks for one); needed on a non-local host')
    .option('--log-sample <share>', 'share of predictions written to the prediction log, 0..1')
    .option('--log-level <level>', 'server log level on stderr: fatal|error|warn|info|debug|silent', 'warn')
    .argument('[overrides...]', 'key.path=value overrides of sapphire.yaml')
    .addHelpText(
      'after',
      '\nThe UI talks only to the HTTP API of `sapphire serve` (which also serves it at /ui). Without --auth every\n' +
        'request acts as the default tenant with admin rights, so the server listens on this machine only.',
    )
    .action(serveAction('ui'));
}

/** The action of `serve` and `ui`: build the server, listen, print the URL(s), drain on SIGTERM/SIGINT. */
function serveAction(mode: 'serve' | 'ui') {
  return async (args: string[], opts: ServeFlags, cmd: Command): Promise<void> => {
    const flags = cmd.optsWithGlobals<GlobalFlags>();
    const { values, overrides } = splitOverrides(args);
    if (values.length)
      throw new SapphireError('BAD_INPUT', `unexpected argument "${values[0]}"`, {
        hint: 'overrides look like key.path=value, e.g. serve.port=9000',
      });
    const port = opts.port === undefined ? undefined : parsePort(opts.port);
    const logSample = opts.logSample === undefined ? undefined : parseShare(opts.logSample);
    if (mode === 'ui' && !opts.auth && opts.host !== undefined && !LOOPBACK.has(opts.host))
      throw new SapphireError(
        'BAD_INPUT',
        `the UI without API keys listens on this machine only, not on ${opts.host}`,
        {
          hint: 'add --auth (the page then asks for an API key), or leave --host at 127.0.0.1',
        },
      );
    const project = await openProject(flags, overrides);
    const settings = project.card.serve;
    const auth =
      mode === 'ui'
        ? opts.auth === true
        : cmd.getOptionValueSource('auth') === 'cli'
          ? opts.auth
          : settings.auth;
    let server: Awaited<ReturnType<typeof buildServer>>;
    let address: AddressInfo;
    try {
      server = await buildServer({
        store: project.store,
        card: project.card,
        projectDir: project.dir,
        auth,
        logSample,
        ...(opts.runtime ? { runtime: opts.runtime as ServeRuntime } : {}),
        logger: opts.logLevel === 'silent' ? false : { level: opts.logLevel, stream: process.stderr },
      });
      try {
        await server.app.listen({ port: port ?? settings.port, host: opts.host ?? settings.host });
      } catch (error) {
        await server.close();
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE' || code === 'EACCES')
          throw new SapphireError(
            'CONFLICT',
            `cannot listen on ${opts.host ?? settings.host}:${port ?? settings.port} (${code === 'EADDRINUSE' ? 'the port is in use' : 'permission denied'})`,
            {
              hint: 'choose another port with --port (or --port 0 for any free one), or stop the other server',
            },
          );
        throw error;
      }
      address = server.app.server.address() as AddressInfo;
    } catch (error) {
      await project.store.close();
      throw error;
    }
    // Installed before the models finish loading: a SIGTERM while they load still drains the requests in flight.
    let stopping = false;
    const stopped = new Promise<void>((resolveStop) => {
      const stop = (signal: NodeJS.Signals) => {
        if (stopping) {
          note(`${signal} again: exiting without waiting for requests in flight`);
          process.exit(1);
        }
        stopping = true;
        if (!flags.json) note(`${signal}: draining (requests in flight finish, the request log is flushed)…`);
        void (async () => {
          try {
            await server.close();
            await project.store.close();
          } catch (error) {
            note(`error while stopping: ${error instanceof Error ? error.message : String(error)}`);
            process.exit(1);
          }
          if (!flags.json) note('Stopped.');
          resolveStop();
        })();
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    });
    const url = urlOf(address);
    const keys = server.ctx.options.auth !== false;
    const ui = `${url}/ui/`;
    if (!flags.json) {
      say(`Serving ${project.card.name} at ${url} (API docs: ${url}/docs)`);
      say(`Web UI: ${ui}`);
      if (!keys)
        note(
          mode === 'ui'
            ? 'API keys are off (local use): every request acts as the default tenant with admin rights.'
            : 'API keys are off (--no-auth): every request acts as the default tenant with admin rights.',
        );
    }

    let failure: unknown = null;
    await Promise.race([
      server.ready.catch((error: unknown) => {
        failure = error;
      }),
      stopped,
    ]);
    const models = server.ctx.models.loaded();
    if (stopping) {
      // Stopped before the models were ready: nothing to announce.
    } else if (flags.json) {
      process.stdout.write(
        `${JSON.stringify({
          url,
          host: address.address,
          port: address.port,
          ui,
          auth: keys,
          ready: failure === null,
          models: models.map((m) => ({
            tenant: m.version.tenant,
            name: m.version.name,
            version: m.version.version,
            architecture: m.version.architecture,
            runtime: m.model.predictAsync ? 'onnx' : 'native',
          })),
          ...(failure instanceof SapphireError ? failure.toJSON() : {}),
        })}\n`,
      );
    } else {
      if (models.length === 0)
        say(
          'No production models yet: promote one with `sapphire promote <name>@<version>` (picked up live).',
        );
      else say(`Loaded ${models.length} model(s): ${models.map(describeModel).join(', ')}`);
      if (failure !== null) {
        note(`warning: ${failure instanceof Error ? failure.message : String(failure)}`);
        if (failure instanceof SapphireError && failure.hint) note(`hint: ${failure.hint}`);
      } else say('Ready. Stop with Ctrl+C (or SIGTERM): requests in flight finish first.');
    }

    await stopped;
    process.exit(0);
  };
}
