import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { ErrorNumber, VirtError } from '../../src/errors/index.js';
import { createBridge, createVeth, deleteLink, getLink, setLinkMtu } from '../../src/host/link.js';
import { netHost, type NetHost } from '../../src/host/netHost.js';
import { RtNetlink } from '../../src/host/netlink.js';
import { IFF_MULTI_QUEUE, IFF_NO_PI, IFF_TAP, IFF_VNET_HDR, tunGetIff, tunSetPersist } from '../../src/host/syscalls.js';
import { closeTapFds, createTap, deleteTap, hostSideMac, openUnmanagedTap } from '../../src/host/tap.js';
import { enterTestNetns, type TestNetns } from '../helpers/netns.js';
import { projectRoot, skipUnless, testUser } from '../helpers/system.js';

const ip = (...args: string[]) => execFileSync('ip', args).toString();
/** The parts of a tap an admin set and tsvirt must not change (`ip -d link` minus counters). */
function tapSnapshot(name: string): string {
  return ip('-d', '-o', 'link', 'show', 'dev', name)
    .replace(/\\/g, ' ')
    .replace(/^\d+: /, '')
    // carrier follows whether an fd is attached; operstate with it
    .replace(/NO-CARRIER,?/, '')
    .replace(/state \S+/, '')
    .replace(/\s+/g, ' ')
    .trim();
}

function isVirtError(code: string, message: string | RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof VirtError, `not a VirtError: ${String(e)}`);
    assert.equal(e.codeName, code);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  };
}

test('netdev case 51: host-side MAC is the guest MAC with first byte fe, or fa when the guest has fe', () => {
  assert.equal(hostSideMac('52:54:00:12:34:56'), 'fe:54:00:12:34:56');
  assert.equal(hostSideMac('FE:54:00:12:34:56'), 'fa:54:00:12:34:56');
  assert.equal(hostSideMac('fa:00:00:00:00:01'), 'fe:00:00:00:00:01');
  assert.throws(() => hostSideMac('52:54:00:12:34'), { code: ErrorNumber.INVALID_ARG, message: "invalid argument: unable to parse mac address '52:54:00:12:34'" });
});

test('netdev case 48: target dev must be supplied when managed=\'no\'', async () => {
  // Nothing is looked up or opened: the check comes first.
  const host = netHost({ netlink: new RtNetlink(() => { throw new Error('netlink must not be used'); }) });
  for (const name of [undefined, null, '']) {
    await assert.rejects(openUnmanagedTap(host, name), isVirtError('INTERNAL_ERROR', "internal error: target dev must be supplied when managed='no'"));
  }
});

describe('taps against the real kernel (test netns)', { skip: skipUnless({ root: true, commands: ['ip'] }) }, () => {
  let ns: TestNetns;
  let host: NetHost;
  before(() => {
    ns = enterTestNetns('host-netdev-tap');
    host = netHost();
  });
  after(() => {
    host?.netlink.close();
    ns?.leave();
  });

  test('netdev case 51: managed tap gets the host-side MAC and is up', async () => {
    const tap = await createTap(host, { name: 'hntap51', guestMac: '52:54:00:6d:90:02', vnetHdr: true });
    try {
      const l = await getLink(host.netlink, 'hntap51');
      assert.equal(l?.mac, 'fe:54:00:6d:90:02');
      assert.equal(l?.up, true);
      assert.equal(tap.fds.length, 1);
      const iff = tunGetIff(tap.fds[0]!);
      assert.ok(iff.ok);
      assert.equal(iff.flags & (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR), IFF_TAP | IFF_NO_PI | IFF_VNET_HDR);
    } finally {
      closeTapFds(tap);
    }
    // not persistent: it went with its last fd
    assert.equal(await getLink(host.netlink, 'hntap51'), null);

    const fa = await createTap(host, { name: 'hntap51b', guestMac: 'fe:54:00:00:00:01' });
    assert.equal((await getLink(host.netlink, 'hntap51b'))?.mac, 'fa:54:00:00:00:01');
    closeTapFds(fa);
  });

  test('netdev case 52: a user-given tap name that already exists is refused, the existing device untouched', async () => {
    ip('tuntap', 'add', 'tap5', 'mode', 'tap');
    try {
      const before = tapSnapshot('tap5');
      await assert.rejects(
        createTap(host, { name: 'tap5', guestMac: '52:54:00:00:00:05' }),
        isVirtError('OPERATION_INVALID', 'Requested operation is not valid: The tap5 interface already exists'),
      );
      assert.equal(tapSnapshot('tap5'), before);
    } finally {
      ip('link', 'del', 'tap5');
    }
  });

  test('netdev case 53: two interfaces without a target get vnet1 and vnet2 when vnet0 exists', async () => {
    ip('tuntap', 'add', 'vnet0', 'mode', 'tap');
    const own = netHost({ netlink: host.netlink }); // fresh counters, as a starting driver
    try {
      const a = await createTap(own, { guestMac: '52:54:00:00:00:01' });
      const b = await createTap(own, { guestMac: '52:54:00:00:00:02' });
      assert.deepEqual([a.name, b.name], ['vnet1', 'vnet2']);
      closeTapFds(a);
      closeTapFds(b);
      // a template other than vnet%d is filled the same way
      const c = await createTap(own, { name: 'hn%dx' });
      assert.equal(c.name, 'hn0x');
      closeTapFds(c);
    } finally {
      ip('link', 'del', 'vnet0');
    }
  });

  test('reconnect: names in use push the vnet counter past them', async () => {
    const own = netHost({ netlink: host.netlink });
    own.names.reserve('vnet7');
    own.names.reserve('macvtap2');
    own.names.reserve('eth0');
    const a = await createTap(own, {});
    assert.equal(a.name, 'vnet8');
    closeTapFds(a);
  });

  test('managed tap on a bridge: bridge MTU taken before enslaving, configured MTU after, up', async () => {
    await createBridge(host.netlink, 'hnbr0');
    await setLinkMtu(host.netlink, 'hnbr0', 1400);
    try {
      const tap = await createTap(host, { name: 'hntapb', guestMac: '52:54:00:aa:00:01', bridge: 'hnbr0' });
      const br = await getLink(host.netlink, 'hnbr0');
      const t = await getLink(host.netlink, 'hntapb');
      assert.equal(t?.master, br?.index);
      assert.equal(t?.mtu, 1400);
      assert.equal(br?.mtu, 1400, 'the bridge MTU is not lowered or raised by the new port');
      assert.equal(t?.up, true);
      closeTapFds(tap);
      assert.equal(await getLink(host.netlink, 'hntapb'), null);

      const tap2 = await createTap(host, { name: 'hntapc', bridge: 'hnbr0', mtu: 1300 });
      assert.equal((await getLink(host.netlink, 'hntapc'))?.mtu, 1300);
      closeTapFds(tap2);

      // a missing bridge fails and leaves no tap behind
      await assert.rejects(createTap(host, { name: 'hntapd', bridge: 'nosuchbr' }), /Unable to add bridge nosuchbr port hntapd/);
      assert.equal(await getLink(host.netlink, 'hntapd'), null);
    } finally {
      await deleteLink(host.netlink, 'hnbr0');
    }
  });

  test('multi-queue tap: one fd per queue, all on the same device', async () => {
    const tap = await createTap(host, { name: 'hntapmq', queues: 4, vnetHdr: true });
    try {
      assert.equal(tap.fds.length, 4);
      for (const fd of tap.fds) {
        const r = tunGetIff(fd);
        assert.ok(r.ok);
        assert.equal(r.name, 'hntapmq');
        assert.ok(r.flags & IFF_MULTI_QUEUE);
      }
      assert.match(ip('-d', 'link', 'show', 'hntapmq'), /multi_queue/);
    } finally {
      closeTapFds(tap);
    }
  });

  test('a tap fd handed to a child through spawn stdio keeps the tap alive in the child', async () => {
    const tap = await createTap(host, { name: 'hntapfd', vnetHdr: true });
    // As QEMU gets it: fd 3 of the child (`-netdev tap,fd=3`); our copy is closed right after.
    const child = spawn('sh', ['-c', 'readlink /proc/self/fd/3; read x'], { stdio: ['pipe', 'pipe', 'inherit', tap.fds[0]!] });
    closeTapFds(tap);
    const out = await new Promise<string>((resolve) => child.stdout!.once('data', (d: Buffer) => resolve(d.toString())));
    assert.equal(out.trim(), '/dev/net/tun');
    assert.ok(await getLink(host.netlink, 'hntapfd'), 'the child holds the tap');
    child.stdin!.end('\n');
    await new Promise((r) => child.once('exit', r));
    assert.equal(await getLink(host.netlink, 'hntapfd'), null, 'gone with the child');
  });

  test('TUNSETPERSIST keeps a tap after its last fd closes; deleteTap removes it', async () => {
    const tap = await createTap(host, { name: 'hntapp' });
    assert.equal(tunSetPersist(tap.fds[0]!, true), 0);
    closeTapFds(tap);
    assert.ok(await getLink(host.netlink, 'hntapp'), 'persistent');
    await deleteTap(host, 'hntapp');
    assert.equal(await getLink(host.netlink, 'hntapp'), null);
  });

  test('deleteTap removes a tap still present at stop and leaves other devices alone', async () => {
    ip('tuntap', 'add', 'hntapdel', 'mode', 'tap');
    await deleteTap(host, 'hntapdel');
    assert.equal(await getLink(host.netlink, 'hntapdel'), null);
    await deleteTap(host, 'hntapdel'); // already gone: fine
    await createVeth(host.netlink, 'hnvd0', 'hnvd1');
    await deleteTap(host, 'hnvd0');
    assert.ok(await getLink(host.netlink, 'hnvd0'));
    await deleteLink(host.netlink, 'hnvd0');
  });

  test('netdev case 46: a pre-made tap is opened without touching it, and survives close', async () => {
    ip('tuntap', 'add', 'mytap0', 'mode', 'tap');
    try {
      const before = tapSnapshot('mytap0');
      const beforeLink = await getLink(host.netlink, 'mytap0');
      const dev = await openUnmanagedTap(host, 'mytap0', { vnetHdr: true });
      assert.equal(dev.name, 'mytap0');
      assert.equal(dev.type, 'tap');
      assert.equal(dev.fds.length, 1);
      const iff = tunGetIff(dev.fds[0]!);
      assert.ok(iff.ok);
      assert.equal(iff.name, 'mytap0');
      assert.equal(iff.flags & (IFF_TAP | IFF_NO_PI), IFF_TAP | IFF_NO_PI);
      // the tap was made without vnet_hdr: it keeps that, and QEMU is told so
      assert.equal(dev.vnetHdr, false);
      const during = await getLink(host.netlink, 'mytap0');
      assert.equal(during?.mac, beforeLink?.mac);
      assert.equal(during?.flags, beforeLink?.flags);
      assert.equal(during?.mtu, beforeLink?.mtu);
      assert.equal(tapSnapshot('mytap0'), before);
      closeTapFds(dev);
      assert.equal(tapSnapshot('mytap0'), before, 'still there and unchanged after close');
    } finally {
      ip('link', 'del', 'mytap0');
    }

    // made with vnet_hdr and multi_queue: opened with both, still unchanged
    ip('tuntap', 'add', 'mytap1', 'mode', 'tap', 'vnet_hdr', 'multi_queue');
    try {
      const before = tapSnapshot('mytap1');
      const dev = await openUnmanagedTap(host, 'mytap1', { queues: 2 });
      assert.equal(dev.vnetHdr, true);
      assert.equal(dev.fds.length, 2);
      for (const fd of dev.fds) {
        const r = tunGetIff(fd);
        assert.ok(r.ok);
        assert.equal(r.flags & (IFF_VNET_HDR | IFF_MULTI_QUEUE), IFF_VNET_HDR | IFF_MULTI_QUEUE);
      }
      closeTapFds(dev);
      assert.equal(tapSnapshot('mytap1'), before);
    } finally {
      ip('link', 'del', 'mytap1');
    }
  });

  test('netdev case 47: target managed=\'no\' but the dev does not exist', async () => {
    await assert.rejects(
      openUnmanagedTap(host, 'mytap9'),
      isVirtError('INTERNAL_ERROR', "internal error: target managed='no' but specified dev doesn't exist"),
    );
    // nothing was created by trying
    assert.equal(await getLink(host.netlink, 'mytap9'), null);
  });

  test('unmanaged target that cannot serve as a tap: clear errors, device untouched', async () => {
    await createVeth(host.netlink, 'hnnv0', 'hnnv1');
    await assert.rejects(openUnmanagedTap(host, 'hnnv0'), isVirtError('CONFIG_UNSUPPORTED', /target dev 'hnnv0' is a veth device, not a tap or macvtap/));
    await deleteLink(host.netlink, 'hnnv0');
    ip('tuntap', 'add', 'hntun0', 'mode', 'tun');
    await assert.rejects(openUnmanagedTap(host, 'hntun0'), /is a tun \(layer 3\) device/);
    ip('link', 'del', 'hntun0');
    ip('tuntap', 'add', 'hnsq0', 'mode', 'tap');
    await assert.rejects(openUnmanagedTap(host, 'hnsq0', { queues: 2 }), /not multi-queue, so 2 queues cannot be opened/);
    ip('link', 'del', 'hnsq0');
  });

  test('netdev case 46: an unprivileged process opens a tap pre-made for its user; MAC, flags and existence unchanged', async (t) => {
    const user = testUser();
    ip('tuntap', 'add', 'mytap0', 'mode', 'tap', 'user', user.name);
    let child: ReturnType<typeof spawn> | undefined;
    try {
      const before = tapSnapshot('mytap0');
      // The child does what a driver running as that user does: open, report, hold, close.
      const script = `
        import { netHost } from ${JSON.stringify(`${projectRoot}/dist/src/host/netHost.js`)};
        import { openUnmanagedTap, closeTapFds } from ${JSON.stringify(`${projectRoot}/dist/src/host/tap.js`)};
        import { tunGetIff } from ${JSON.stringify(`${projectRoot}/dist/src/host/syscalls.js`)};
        const host = netHost();
        const dev = await openUnmanagedTap(host, 'mytap0', { vnetHdr: true });
        const iff = tunGetIff(dev.fds[0]);
        process.stdout.write(JSON.stringify({ uid: process.getuid(), name: dev.name, fds: dev.fds.length, iff }) + '\\n');
        await new Promise((r) => process.stdin.once('data', r));
        closeTapFds(dev);
        host.netlink.close();
        process.stdout.write('closed\\n');
        process.exit(0);
      `;
      const proc = spawn(process.execPath, ['--input-type=module', '-e', script], {
        uid: user.uid,
        gid: user.gid,
        cwd: '/',
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: user.home },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      child = proc;
      let stderr = '';
      proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const lines: string[] = [];
      let buf = '';
      const nextLine = () =>
        new Promise<string>((resolve, reject) => {
          const check = () => {
            const i = buf.indexOf('\n');
            if (i >= 0) {
              const line = buf.slice(0, i);
              buf = buf.slice(i + 1);
              proc.stdout!.off('data', onData);
              proc.off('exit', onExit);
              resolve(line);
              return true;
            }
            return false;
          };
          const onData = (d: Buffer) => {
            buf += d.toString();
            check();
          };
          const onExit = (code: number) => reject(new Error(`child exited ${code}: ${stderr}`));
          if (check()) return;
          proc.stdout!.on('data', onData);
          proc.once('exit', onExit);
        });
      const report = JSON.parse(await nextLine()) as { uid: number; name: string; fds: number; iff: { ok: boolean; name: string; flags: number } };
      lines.push(JSON.stringify(report));
      assert.equal(report.uid, user.uid);
      assert.equal(report.name, 'mytap0');
      assert.equal(report.iff.ok, true);
      assert.equal(report.iff.name, 'mytap0');
      assert.equal(report.iff.flags & (IFF_TAP | IFF_NO_PI), IFF_TAP | IFF_NO_PI);
      // while the unprivileged process holds it: attached (carrier), nothing else different
      assert.equal(tapSnapshot('mytap0'), before);
      const exited = new Promise((r) => proc.once('exit', r));
      proc.stdin!.end('go\n');
      assert.equal(await nextLine(), 'closed');
      await exited;
      assert.equal(tapSnapshot('mytap0'), before, 'exists and unchanged after close');
      t.diagnostic(`child report ${lines.join(' ')}`);
    } finally {
      if (child && child.exitCode === null) child.kill('SIGKILL');
      ip('link', 'del', 'mytap0');
    }
  });

  test('QEMU, run unprivileged, takes the fd of a pre-made tap as -netdev tap,fd=3; the tap is unchanged after', { skip: skipUnless({ commands: ['qemu-system-x86_64'] }) }, async () => {
    const user = testUser();
    ip('tuntap', 'add', 'mytapq', 'mode', 'tap', 'user', user.name);
    try {
      const before = tapSnapshot('mytapq');
      // The unprivileged process opens the tap and hands fd 3 to a paused QEMU, as the driver
      // will; QEMU reports the tap backend over QMP and quits.
      const script = `
        import { spawn } from 'node:child_process';
        import { netHost } from ${JSON.stringify(`${projectRoot}/dist/src/host/netHost.js`)};
        import { openUnmanagedTap, closeTapFds } from ${JSON.stringify(`${projectRoot}/dist/src/host/tap.js`)};
        const host = netHost();
        const dev = await openUnmanagedTap(host, 'mytapq', { vnetHdr: true });
        host.netlink.close();
        const q = spawn('qemu-system-x86_64', ['-S', '-M', 'q35', '-accel', 'tcg', '-nodefaults', '-display', 'none', '-qmp', 'stdio',
          '-netdev', 'tap,id=net0,fd=3', '-device', 'virtio-net-pci,netdev=net0,id=nic0,mac=52:54:00:11:22:33'],
          { stdio: ['pipe', 'pipe', 'inherit', dev.fds[0]] });
        closeTapFds(dev);
        let out = '';
        q.stdout.on('data', (d) => (out += d));
        q.stdin.write('{"execute":"qmp_capabilities"}\\n{"execute":"human-monitor-command","arguments":{"command-line":"info network"}}\\n{"execute":"quit"}\\n');
        q.on('exit', (code) => { process.stdout.write(JSON.stringify({ code, out })); });
      `;
      const res = JSON.parse(
        execFileSync(process.execPath, ['--input-type=module', '-e', script], { uid: user.uid, gid: user.gid, cwd: '/', timeout: 60000 }).toString(),
      ) as { code: number; out: string };
      assert.equal(res.code, 0);
      assert.match(res.out, /net0: index=0,type=tap,fd=3/);
      assert.equal(tapSnapshot('mytapq'), before);
    } finally {
      ip('link', 'del', 'mytapq');
    }
  });

  test('an unprivileged process cannot open a tap that belongs to another user', async () => {
    const user = testUser();
    ip('tuntap', 'add', 'roottap0', 'mode', 'tap', 'user', 'nobody');
    try {
      const script = `
        import { netHost } from ${JSON.stringify(`${projectRoot}/dist/src/host/netHost.js`)};
        import { openUnmanagedTap } from ${JSON.stringify(`${projectRoot}/dist/src/host/tap.js`)};
        const host = netHost();
        try { await openUnmanagedTap(host, 'roottap0'); console.log('opened'); }
        catch (e) { console.log(e.message); }
        host.netlink.close();
      `;
      const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { uid: user.uid, gid: user.gid, cwd: '/' }).toString();
      assert.equal(out.trim(), 'Unable to open tap device roottap0: Operation not permitted');
    } finally {
      ip('link', 'del', 'roottap0');
    }
  });
});

