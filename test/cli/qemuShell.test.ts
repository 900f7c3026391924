// The QEMU driver through bin/tsvirt: the device and console commands as virsh spells them.
// Option parsing and messages are compared with the real virsh (on test:///default, which needs
// no daemon); the commands are then driven against qemu:///embed with the real test guest: boot,
// state, console readiness, a command run on the console, attach/update/detach of an interface,
// domiftune, destroy, and nothing (QEMU, status file) left behind.
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { guestSkipReason } from '../helpers/guest.js';
import { skipUnless, tempDir } from '../helpers/system.js';
import { guestDomainXML } from '../drivers/qemu/guestDomain.js';
import { haveVirsh, tsvirt, tsvirtBin, virsh } from './shells.js';

describe('device and console commands: options and messages as virsh', { skip: haveVirsh ? false : 'needs virsh' }, () => {
  const cases: string[][] = [
    ['attach-interface', 'test', 'bridge', 'br0', '--print-xml', '--mac', '52:54:00:11:22:66', '--model', 'virtio', '--target', 'vnet7', '--inbound', '100,200,300', '--outbound', '10', '--script', '/bin/true', '--alias', 'ua-x'],
    ['attach-interface', 'test', 'network', 'default', '--print-xml'],
    ['attach-interface', 'test', 'direct', 'eth0', '--print-xml', '--model', 'virtio'],
    ['attach-interface', 'test', 'hostdev', '0000:01:00.1', '--managed', '--print-xml'],
    ['attach-interface', 'test', 'vhostuser', '/tmp/s.sock', '--print-xml', '--source-mode', 'server'],
    ['attach-interface', 'test', 'vhostuser', '/tmp/s.sock', '--print-xml'],
    ['attach-interface', 'test', 'ethernet', 'tap0', '--print-xml'],
    ['attach-interface', 'test', 'bridge', 'br0', '--print-xml', '--inbound', '0'],
    ['attach-interface', 'test', 'bridge', 'br0', '--print-xml', '--inbound', 'abc'],
    ['attach-interface', 'test', 'bridge', 'br0', '--print-xml', '--outbound', '5,6,7,8'],
    ['attach-interface', 'test', 'bridge'],
    ['attach-interface', 'test', 'bridge', 'br0', '--print-xml', '--source-mode', 'vepa'],
    ['detach-interface', 'test', 'bridge'],
    ['detach-interface', 'test', 'user', '--mac', '52:54:00:00:00:99'],
    ['detach-interface', 'test', 'network', '--print-xml', '--mac', 'AA:BB:CC:DD:EE:0FF'],
    ['detach-interface', 'test', 'network', '--print-xml', '--mac', 'aa-bb-cc-dd-ee-ff'],
    ['detach-interface', 'test', 'network', '--print-xml', '--config', '--mac', 'aa-bb-cc-dd-ee-ff'],
    ['detach-interface', 'test', 'bridge', '--print-xml'],
    ['attach-device', 'test', '/nonexistent.xml'],
    ['detach-device', 'test', '/nonexistent.xml', '--live', '--current'],
    ['update-device', 'test', '/nonexistent.xml', '--persistent', '--current'],
    ['domiftune', 'test', 'nosuchdev'],
    ['domiftune', 'test', 'eth0', '--outbound', '1,2,3,4'],
    ['domiftune', 'test', 'eth0', '--config', '--current'],
    ['domiftune', 'test', 'eth0', '--inbound', '0,100'],
    ['domiftune', 'test', 'eth0', '--inbound', '0,0,0,5'],
    ['domiftune', 'test', 'eth0', '--outbound', '0,0,7'],
    ['domiftune', 'test', 'eth0', '--inbound', '1,2,3,4,5'],
    ['domiftune', 'test', 'eth0', '--inbound', '4294967296'],
    ['domiftune', 'test', 'eth0', '--inbound', '0,1', '--outbound', 'abc'],
    ['attach-interface', 'test', 'bridge', 'br0', '--print-xml', '--inbound', '4294967296'],
    ['console', 'nosuchdomain'],
    ['help', 'console'],
    ['help', 'attach-interface'],
    ['help', 'detach-interface'],
    ['help', 'attach-device'],
    ['help', 'update-device'],
    ['help', 'domiftune'],
    ['help', 'domcapabilities'],
  ];
  for (const args of cases) {
    test(args.join(' '), () => {
      const full = ['-c', 'test:///default', ...args];
      const mine = tsvirt(full);
      const theirs = virsh(full);
      assert.equal(mine.stdout, theirs.stdout);
      assert.equal(mine.stderr, theirs.stderr);
      assert.equal(mine.status, theirs.status);
    });
  }
});

const skip = skipUnless({ commands: ['qemu-system-x86_64'] }) || guestSkipReason();

describe('bin/tsvirt on qemu:///embed with the test guest', { skip }, () => {
  const tmp = tempDir(`tsvirt-qemu-runtime-shell-${process.pid}-`);
  const root = join(tmp.path, 'root');
  const uri = `qemu:///embed?root=${root}`;
  const t = (...args: string[]) => tsvirt(['-c', uri, ...args], { cwd: tmp.path });
  let con: ChildProcessWithoutNullStreams | undefined;
  after(async () => {
    // A console left open by a failed step holds the embed lock: end it before the clean-up.
    if (con && con.exitCode === null && con.signalCode === null) {
      const gone = new Promise((r) => con!.once('exit', r));
      con.kill('SIGKILL');
      await gone;
    }
    t('destroy', 'sh1');
    tmp.remove();
  });

  test('define, start, state, console readiness and a command, devices, domiftune, destroy', async () => {
    writeFileSync(join(tmp.path, 'sh1.xml'), guestDomainXML({ name: 'sh1' }));
    assert.equal(t('define', 'sh1.xml').stdout, "Domain 'sh1' defined from sh1.xml\n\n");
    assert.equal(t('start', 'sh1').stdout, "Domain 'sh1' started\n\n");
    assert.equal(t('domstate', '--reason', 'sh1').stdout, 'running (booted)\n\n');
    assert.match(t('list').stdout, / 1 +sh1 +running/);

    // The console on pipes: readiness line, then a command typed in, then Ctrl-].
    const c = spawn(process.execPath, [tsvirtBin, '-c', uri, 'console', 'sh1'], { stdio: ['pipe', 'pipe', 'pipe'] });
    con = c;
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString('latin1')));
    const waitOut = async (re: RegExp, ms = 90_000): Promise<void> => {
      const t0 = Date.now();
      while (!re.test(out)) {
        if (Date.now() - t0 > ms) throw new Error(`no ${re} in console output: ${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await waitOut(/Connected to domain 'sh1'\nEscape character is \^\] \(Ctrl \+ \]\)\n/);
    await waitOut(/TSVIRT-GUEST-READY/);
    c.stdin.write('\n');
    await waitOut(/tsvirt-guest# /);
    c.stdin.write('echo $((6*7))x\n');
    await waitOut(/\n42x/);
    c.stdin.write(Buffer.from([0x1d]));
    const status = await new Promise<number | null>((r) => c.once('exit', r));
    assert.equal(status, 0);

    const nic = join(tmp.path, 'nic.xml');
    writeFileSync(nic, "<interface type='user'><mac address='52:54:00:ab:cd:01'/><model type='virtio'/></interface>");
    assert.equal(t('attach-device', 'sh1', 'nic.xml').stdout, 'Device attached successfully\n\n');
    assert.match(t('domiflist', 'sh1').stdout, /user +- +virtio +52:54:00:ab:cd:01/);
    writeFileSync(join(tmp.path, 'nic-down.xml'), "<interface type='user'><mac address='52:54:00:ab:cd:01'/><model type='virtio'/><link state='down'/></interface>");
    assert.equal(t('update-device', 'sh1', 'nic-down.xml').stdout, 'Device updated successfully\n\n');
    assert.match(t('dumpxml', 'sh1').stdout, /<link state='down'\/>/);
    const tune = t('domiftune', 'sh1', '52:54:00:ab:cd:01');
    assert.equal(tune.stdout, 'inbound.average: 0\ninbound.peak   : 0\ninbound.burst  : 0\ninbound.floor  : 0\noutbound.average: 0\noutbound.peak  : 0\noutbound.burst : 0\n\n');
    const refused = t('domiftune', 'sh1', '52:54:00:ab:cd:01', '--inbound', '100');
    assert.equal(refused.status, 1);
    assert.equal(refused.stderr, "error: Unable to set interface parameters\nerror: unsupported configuration: setting bandwidth on interfaces of type 'user' is not implemented yet\n");
    assert.equal(t('detach-interface', 'sh1', 'user', '--mac', '52:54:00:ab:cd:01').stdout, 'Interface detached successfully\n\n');
    assert.doesNotMatch(t('dumpxml', 'sh1').stdout, /52:54:00:ab:cd:01/);

    assert.equal(t('destroy', 'sh1').stdout, "Domain 'sh1' destroyed\n\n");
    // A new process knows no reason for a domain that is off (libvirt's embedded driver neither).
    assert.equal(t('domstate', '--reason', 'sh1').stdout, 'shut off (unknown)\n\n');
    assert.equal(existsSync(join(root, 'run', 'qemu', 'sh1.xml')), false);
    const again = t('console', 'sh1');
    assert.equal(again.stderr, 'error: The domain is not running\n');
  });
});
