// The test guest under plain QEMU (TCG): its readiness line, its console shell through
// QemuConsole, one console session at a time, DHCP from a real dnsmasq on a bridge, ACPI
// power-off and a guest panic reaching QMP.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ErrorNumber, VirtError } from '../../../src/errors/index.js';
import { GuestConsole, startRawGuest } from '../../helpers/guest.js';
import { guestSkipReason } from '../../helpers/guest.js';
import { enterTestNetns } from '../../helpers/netns.js';
import { skipUnless, tempDir } from '../../helpers/system.js';

const skip = skipUnless({ commands: ['qemu-system-x86_64'] }) || guestSkipReason();

describe('the test guest', { skip }, () => {
  const tmp = tempDir(`tsvirt-qemu-base-guest-${process.pid}-`);
  after(() => tmp.remove());

  test('boots to its readiness line with the NIC and MAC given, and runs commands on the console', async (t) => {
    const mac = '52:54:00:7e:00:01';
    const t0 = performance.now();
    const consoleLog = join(tmp.path, 'g1,console.log');
    const g = await startRawGuest({ dir: tmp.path, name: 'g1', nics: [{ mac, netdev: 'user' }], consoleLog });
    try {
      const nics = await g.guest.waitReady(90_000);
      t.diagnostic(`boot to TSVIRT-GUEST-READY: ${Math.round(performance.now() - t0)} ms (TCG)`);
      assert.deepEqual([...nics], [['eth0', mac]]);
      await g.guest.waitPrompt();
      assert.equal(await g.guest.run('echo $((6*7))'), '42\n');
      const r = await g.guest.exec('cat /nonexistent');
      assert.notEqual(r.status, 0);
      assert.match(r.output, /No such file or directory/);
      assert.equal((await g.guest.exec('ip link show eth0')).output.includes(mac), true);

      // QEMU's user-mode network has a DHCP server: the guest's background client takes a lease.
      let lease = '';
      for (let i = 0; i < 40 && !lease; i++) {
        lease = (await g.guest.exec('cat /run/dhcp.eth0 2>/dev/null')).output.trim();
        if (!lease) await new Promise((res) => setTimeout(res, 250));
      }
      assert.equal(lease, '10.0.2.15/24');
      // The chardev's log file (a comma in its name, doubled on the command line) got it all too.
      assert.match(readFileSync(consoleLog, 'latin1'), new RegExp(`TSVIRT-GUEST-READY eth0=${mac}`));
    } finally {
      await g.stop();
    }
  });

  test('one console session at a time: a second open fails unless forced, which ends the first', async () => {
    const g = await startRawGuest({ dir: tmp.path, name: 'g2' });
    try {
      await g.guest.waitReady(90_000);
      await g.guest.waitPrompt();
      await assert.rejects(g.console.open(), (err: unknown) => {
        assert.ok(err instanceof VirtError);
        assert.equal(err.code, ErrorNumber.OPERATION_FAILED);
        assert.equal(err.message, 'operation failed: Active console session exists for this domain');
        return true;
      });
      const firstClosed = new Promise((res) => g.guest.stream.once('close', res));
      const second = new GuestConsole(await g.console.open({ force: true }));
      await firstClosed;
      assert.equal(g.console.active, true);
      assert.equal(await second.run('echo $((6*7))'), '42\n');
      // Ending the session frees the console for a plain open.
      second.close();
      await new Promise((res) => second.stream.once('close', res));
      assert.equal(g.console.active, false);
      const third = new GuestConsole(await g.console.open());
      assert.equal(await third.run('echo third'), 'third\n');
      third.close();
      await new Promise((res) => third.stream.once('close', res));
      // A forced open while another is still connecting: the earlier one is refused, not left hanging.
      const racing = g.console.open();
      const forced = await g.console.open({ force: true });
      await assert.rejects(racing, (err: unknown) => {
        assert.ok(err instanceof VirtError);
        assert.equal(err.code, ErrorNumber.OPERATION_FAILED);
        assert.equal(err.message, 'operation failed: Active console session exists for this domain');
        return true;
      });
      assert.equal(g.console.active, true);
      forced.destroy();
      await new Promise((res) => forced.once('close', res));

      // ACPI power button (system_powerdown): the guest powers itself off, QEMU exits cleanly.
      const shutdown = g.qmp.waitEvent('SHUTDOWN', { timeoutMs: 30_000 });
      await g.qmp.execute('system_powerdown');
      const ev = await shutdown;
      assert.equal(ev.data.guest, true);
      assert.equal(ev.data.reason, 'guest-shutdown');
      assert.deepEqual(await g.proc.exited, { code: 0, signal: null });
    } finally {
      await g.stop();
    }
  });

  test(
    'DHCP on a tap in a bridge with dnsmasq: the guest gets an address; a second NIC is listed too; a panic reaches QMP',
    { skip: skipUnless({ root: true, commands: ['ip', 'dnsmasq'] }) },
    async () => {
      const ns = enterTestNetns('qemubase');
      let dnsmasq: ChildProcess | undefined;
      let g: Awaited<ReturnType<typeof startRawGuest>> | undefined;
      try {
        execFileSync('ip', ['link', 'add', 'tsvbr0', 'type', 'bridge']);
        execFileSync('ip', ['addr', 'add', '192.168.77.1/24', 'dev', 'tsvbr0']);
        execFileSync('ip', ['link', 'set', 'tsvbr0', 'up']);
        execFileSync('ip', ['tuntap', 'add', 'tsvtap0', 'mode', 'tap']);
        execFileSync('ip', ['link', 'set', 'tsvtap0', 'master', 'tsvbr0', 'up']);
        dnsmasq = spawn(
          'dnsmasq',
          [
            '--keep-in-foreground',
            '--conf-file=/dev/null',
            '--port=0',
            '--interface=tsvbr0',
            '--bind-interfaces',
            '--dhcp-range=192.168.77.10,192.168.77.20,255.255.255.0',
            `--dhcp-leasefile=${join(tmp.path, 'leases')}`,
            `--pid-file=${join(tmp.path, 'dnsmasq.pid')}`,
          ],
          { stdio: 'ignore' },
        );
        const macs = ['52:54:00:7e:00:11', '52:54:00:7e:00:12'];
        g = await startRawGuest({
          dir: tmp.path,
          name: 'g3',
          nics: [
            { mac: macs[0]!, netdev: 'tap,ifname=tsvtap0,script=no,downscript=no' },
            { mac: macs[1]!, netdev: 'user' },
          ],
          extraArgs: ['-device', 'pvpanic'],
        });
        const nics = await g.guest.waitReady(90_000);
        assert.deepEqual([...nics], [
          ['eth0', macs[0]],
          ['eth1', macs[1]],
        ]);
        await g.guest.waitPrompt();
        let addr = '';
        for (let i = 0; i < 60 && !addr; i++) {
          const out = await g.guest.run('ip -4 addr show eth0');
          addr = /inet (192\.168\.77\.\d+)\/24/.exec(out)?.[1] ?? '';
          if (!addr) await new Promise((res) => setTimeout(res, 250));
        }
        const n = Number(addr.split('.')[3]);
        assert.ok(n >= 10 && n <= 20, `address ${addr} from the range`);
        // The guest reaches the host side of the bridge from its leased address.
        assert.match(await g.guest.run('ping -c 1 -W 5 192.168.77.1'), /1 packets received/);

        const panicked = g.qmp.waitEvent('GUEST_PANICKED', { timeoutMs: 30_000 });
        g.guest.stream.write('echo c > /proc/sysrq-trigger\n');
        const ev = await panicked;
        assert.equal(ev.event, 'GUEST_PANICKED');
      } finally {
        await g?.stop();
        dnsmasq?.kill();
        ns.leave();
      }
    },
  );
});
