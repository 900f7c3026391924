// `make demo` (dist/src/cli/demo.js), run as a user would, in a network namespace of its own (it
// makes a bridge): it boots the test guest on qemu:///embed?root=./.demo, shows its state,
// interface and readiness line, pings the host from the guest over the tap and bridge, shuts it
// down, and leaves no bridge, tap or QEMU behind.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { guestSkipReason } from '../helpers/guest.js';
import { projectRoot, skipUnless, tempDir } from '../helpers/system.js';

const skip = skipUnless({ root: true, commands: ['qemu-system-x86_64', 'ip'] }) || guestSkipReason();
const tmp = tempDir(`tsvirt-qemu-runtime-demo-${process.pid}-`);
after(() => tmp.remove());

test('make demo: the test guest on a bridge, a command on its console, a clean shutdown, nothing left', { skip }, () => {
  const ns = `tsv-qrdemo-${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, join(projectRoot, 'dist/src/cli/demo.js')], {
      cwd: tmp.path,
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    const out = r.stdout;
    assert.match(out, new RegExp(`qemu:///embed\\?root=${tmp.path}/\\.demo`));
    assert.match(out, /state: running \(unpaused\)/);
    assert.match(out, /interface: bridge on tsvdemo0, host side vnet\d+, guest MAC 52:54:00:/);
    assert.match(out, /TSVIRT-GUEST-READY eth0=52:54:00:/);
    assert.match(out, /1 packets transmitted, 1 packets received/);
    assert.match(out, /event: Shutdown Finished after guest request\n {2}event: Stopped Shutdown\n/);
    assert.match(out, /shut off \(shutdown\)/);
    assert.equal(existsSync(join(tmp.path, '.demo', 'etc', 'qemu', 'demo.xml')), false, 'undefined at the end');
    const links = execFileSync('ip', ['-n', ns, '-br', 'link']).toString();
    assert.doesNotMatch(links, /tsvdemo0|vnet/);
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
  }
});
