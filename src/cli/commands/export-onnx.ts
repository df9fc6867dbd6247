import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadRunModel } from '../../analysis/analyze.ts';
import { cliTenant } from '../../core/actor.ts';
import { SapphireError } from '../../core/errors.ts';
import { resolveRunId } from '../../experiments/run-query.ts';
import type { Model } from '../../models/model.ts';
import { loadModel } from '../../models/registry.ts';
import { defaultCacheRoot, loadRegisteredModel } from '../../registry/materialize.ts';
import { withProject } from '../context.ts';
import { type GlobalFlags, printJson, say } from '../output.ts';

interface ExportFlags {
  out?: string;
  tenant?: string;
}

/** Registers `sapphire models export-onnx <model-dir|run|name@version> [--out dir]`. */
export function registerExportOnnxCommand(models: Command): void {
  models
    .command('export-onnx')
    .description(
      'write a model as model.onnx (scores in ONNX; vocabulary, labels and decoding in the folder) and check it in ONNX Runtime',
    )
    .argument('<model>', 'model folder, run id (or its last characters), or registered name@version')
    .option(
      '--out <dir>',
      'folder to write (default: the model folder itself; for runs and versions ./<name>-onnx)',
    )
    .option(
      '--tenant <id>',
      'tenant of a registered name@version (default: $SAPPHIRE_TENANT, else "default")',
    )
    .addHelpText(
      'after',
      '\nExports bilstm-crf.v1, idcnn-crf.v1 (emissions), embedding-bag.v1, text-cnn.v1 (logits), linear.v1 (margins),\n' +
        'crf.v1 and perceptron.v1 (state scores). The folder loads natively and through ONNX Runtime\n' +
        '(serve.runtime: onnx uses its model.onnx).',
    )
    .action(async (ref: string, opts: ExportFlags, cmd: Command) => {
      const flags = cmd.optsWithGlobals<GlobalFlags>();
      const path = resolve(ref);
      const isDir = existsSync(path) && statSync(path).isDirectory();
      const write = async (model: Model, defaultOut: string | null, where: string) => {
        const out = opts.out ? resolve(opts.out) : defaultOut;
        if (!out) throw new SapphireError('BAD_INPUT', 'no output folder', { hint: 'pass --out <dir>' });
        const sameDir = isDir && out === path;
        const { exportOnnx } = await import('../../models/onnx/export.ts');
        const result = await exportOnnx(model, out, { saveModel: !sameDir, where });
        if (flags.json) return printJson(result);
        say(`Exported ${result.architecture} to ${result.file} (${(result.bytes / 1024).toFixed(0)} KiB).`);
        say(`Inputs: ${result.inputs.join(', ')}; output: ${result.output}.`);
        say(
          `ONNX Runtime matches the TypeScript scores (largest difference ${result.maxAbsDiff.toExponential(1)}).`,
        );
        say(
          `Serve it through ONNX Runtime: register ${result.dir} and set serve.runtime: onnx in sapphire.yaml.`,
        );
      };
      if (isDir) {
        return write(await loadModel(path), path, path);
      }
      await withProject(flags, [], async (ctx) => {
        if (ref.includes('@')) {
          const version = await ctx.store.registry.resolveVersion(cliTenant(opts.tenant), ref);
          const model = await loadRegisteredModel(ctx.store, version, defaultCacheRoot(ctx.dir));
          return write(model, resolve(`${version.name}-v${version.version}-onnx`), ref);
        }
        let runId: string;
        try {
          runId = await resolveRunId(ctx.store, ref);
        } catch (error) {
          if (!(error instanceof SapphireError) || error.code !== 'NOT_FOUND') throw error;
          throw new SapphireError(
            'NOT_FOUND',
            `"${ref}" is neither a model folder, a run nor a name@version`,
            {
              hint: 'pass the folder written by `sapphire train`, a run id from `sapphire runs ls`, or name@version from `sapphire models ls`',
            },
          );
        }
        const target = await loadRunModel(ctx.store, runId);
        return write(target.model, resolve(`${runId}-onnx`), `run ${runId}`);
      });
    });
}
