// What a test needs to know about this machine, and the skip reasons when it lacks something.
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (tests run from dist/test/…). */
export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export const isRoot = process.getuid?.() === 0;

export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

export function hasKvm(): boolean {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** A `skip` option for test(): false when everything is there, else the reason. */
export function skipUnless(conds: { root?: boolean; kvm?: boolean; commands?: string[] }): string | false {
  if (conds.root && !isRoot) return 'needs root';
  if (conds.kvm && !hasKvm()) return 'needs /dev/kvm';
  for (const c of conds.commands ?? []) if (!hasCommand(c)) return `needs ${c}`;
  return false;
}

/** A fresh temporary directory, removed by the returned function. */
export function tempDir(prefix = 'tsvirt-test-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * An unprivileged user for tests that must run as one ("tsvirt-test", created on first use).
 * Root only.
 */
export function testUser(): { name: string; uid: number; gid: number; home: string } {
  const name = 'tsvirt-test';
  if (spawnSync('id', ['-u', name], { stdio: 'ignore' }).status !== 0) {
    // Two test files may race to create it; the loser's failure is harmless.
    spawnSync('useradd', ['--system', '--create-home', '--home-dir', `/var/lib/${name}`, '--shell', '/bin/sh', name], {
      stdio: 'ignore',
    });
  }
  const uid = Number(execFileSync('id', ['-u', name]).toString().trim());
  const gid = Number(execFileSync('id', ['-g', name]).toString().trim());
  return { name, uid, gid, home: `/var/lib/${name}` };
}
