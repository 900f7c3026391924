#!/usr/bin/env node
// Runs node's built-in test runner over the compiled tests. Node 20 wants its own options before
// the paths, but `npm test -- --test-name-pattern=X` appends them after: split them here.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const options = [];
const paths = [];
for (const arg of process.argv.slice(2)) (arg.startsWith('-') ? options : paths).push(arg);
if (paths.length === 0) paths.push('dist/test/');
for (const p of paths) {
  if (!existsSync(p)) {
    console.error(`runTests: ${p} does not exist (run 'npm run build' first)`);
    process.exit(2);
  }
}
if (!options.some((o) => o.startsWith('--test-concurrency'))) options.push('--test-concurrency=2');
const res = spawnSync(process.execPath, ['--enable-source-maps', '--test', ...options, ...paths], {
  stdio: 'inherit',
});
process.exit(res.status ?? 1);
