import { type GlobalFlags, reportError } from './output.ts';
import { buildProgram } from './program.ts';

let flags: GlobalFlags = {};
try {
  const program = await buildProgram(process.argv);
  flags = program.opts<GlobalFlags>();
  await program.parseAsync(process.argv);
  flags = program.opts<GlobalFlags>();
} catch (error) {
  process.exitCode = reportError(error, flags);
}
