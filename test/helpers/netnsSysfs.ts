// A sysfs mounted from inside the test's network namespace. /sys shows the host's network
// devices; a sysfs mounted by a process in another namespace shows that namespace's. Call after
// enterTestNetns(): the mount(8) child inherits the namespace. Needs root.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface NetnsSysfs {
  root: string;
  unmount(): void;
}

export function mountNetnsSysfs(tag: string): NetnsSysfs {
  const root = mkdtempSync(join(tmpdir(), `tsv-sysfs-${tag}-${process.pid}-`));
  execFileSync('mount', ['-t', 'sysfs', '-o', 'ro,nosuid,nodev,noexec', 'sysfs', root]);
  let mounted = true;
  return {
    root,
    unmount() {
      if (!mounted) return;
      mounted = false;
      execFileSync('umount', ['-l', root]);
      rmdirSync(root);
    },
  };
}
