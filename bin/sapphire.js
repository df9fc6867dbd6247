#!/usr/bin/env node
// Runs the CLI straight from the TypeScript sources through tsx (see docs/adr/0001-run-from-source-with-tsx.md).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
