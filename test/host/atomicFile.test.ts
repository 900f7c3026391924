// Persisted state: writeFileAtomic leaves the old file or the new one, and overlapping writes of
// one path (status files are saved from several event handlers) all succeed, the last one winning.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { writeFileAtomic } from '../../src/host/atomicFile.js';
import { tempDir } from '../helpers/system.js';

const tmp = tempDir(`tsv-atomic-${process.pid}-`);
after(() => tmp.remove());

test('atomic write: overlapping writes of one path all succeed and leave no temp file', async () => {
  const file = join(tmp.path, 'status.xml');
  writeFileSync(file, 'old');
  await Promise.all(Array.from({ length: 20 }, (_, i) => writeFileAtomic(file, `v${i}`)));
  assert.match(readFileSync(file, 'utf8'), /^v\d+$/);
  assert.deepEqual(readdirSync(tmp.path), ['status.xml']);
  assert.equal(statSync(file).mode & 0o777, 0o600);
});

test('atomic write: a failed rename keeps the old file and removes the temp file', async () => {
  const dir = join(tmp.path, 'd');
  mkdirSync(join(dir, 'target'), { recursive: true });
  writeFileSync(join(dir, 'target', 'keep'), 'x');
  // rename(2) of a file onto a non-empty directory fails (EISDIR).
  await assert.rejects(writeFileAtomic(join(dir, 'target'), 'new'), { code: 'EISDIR' });
  assert.deepEqual(readdirSync(dir), ['target']);
  assert.equal(readFileSync(join(dir, 'target', 'keep'), 'utf8'), 'x');
});
