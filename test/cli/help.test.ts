/** Golden files for `--help` of every command: a change to the CLI's surface shows up in review. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Command } from 'commander';
import { buildProgram, commandName } from '../../src/cli/program.ts';

function allHelp(command: Command, path: string[] = []): string {
  const name = ['sapphire', ...path].join(' ');
  let out = `$ ${name} --help\n${command.helpInformation({ error: false })}\n`;
  for (const sub of command.commands) out += allHelp(sub, [...path, sub.name()]);
  return out;
}

test('CLI help matches the golden file (UPDATE_GOLDEN=1 to accept a change)', async () => {
  const program = await buildProgram();
  program.configureHelp({ helpWidth: 100 });
  for (const c of program.commands) {
    c.configureHelp({ helpWidth: 100 });
    for (const s of c.commands) s.configureHelp({ helpWidth: 100 });
  }
  const actual = allHelp(program);
  const file = join(import.meta.dirname, 'golden', 'help.txt');
  if (process.env.UPDATE_GOLDEN || !existsSync(file)) writeFileSync(file, actual);
  assert.equal(actual, readFileSync(file, 'utf8'));
});

test('the command name is found after global options, so only its group loads', async () => {
  assert.equal(commandName(['--project', 'x', '--json', 'runs', 'ls']), 'runs');
  assert.equal(commandName(['--store', 'postgres://h/db', 'cv', 'a.yaml']), 'cv');
  assert.equal(commandName(['--help']), null);
  const runsOnly = await buildProgram(['node', 'sapphire', 'runs', 'ls']);
  assert.deepEqual(
    runsOnly.commands.map((c) => c.name()),
    ['runs'],
  );
  const all = await buildProgram(['node', 'sapphire', 'nonsense']);
  assert.ok(all.commands.length > 10, 'an unknown command loads every group for the suggestion');
});
