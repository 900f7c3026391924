// Guest interfaces against the real kernel, in a network namespace, with the test guest pinging
// the host through each: ethernet (a tap tsvirt makes, with tc limits and domiftune), bridge (a
// tap enslaved to an existing bridge), direct (macvtap on a veth), and the seed case: an
// unprivileged user on qemu:///session boots the guest on a pre-made tap it owns, managed='no',
// and the tap's MAC, flags and existence are the same after start and after stop.
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync } from 'node:fs';
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Connection, ErrorNumber, VirtError } from '../../../src/api/index.js';
import { guestSkipReason, type GuestConsole } from '../../helpers/guest.js';
import { enterTestNetns, type TestNetns } from '../../helpers/netns.js';
import { projectRoot, skipUnless, tempDir, testUser } from '../../helpers/system.js';
import { destroyAll, openEmbed, startWithConsole } from './driverHarness.js';
import { guestDomainXML } from './guestDomain.js';

const skip = skipUnless({ root: true, commands: ['qemu-system-x86_64', 'ip', 'tc'] }) || guestSkipReason();

interface IpLink {
  ifname: string;
  address: string;
  flags: string[];
  mtu: number;
  master?: string;
  linkinfo?: { info_kind?: string; info_data?: Record<string, unknown> };
}

function link(name: string): IpLink | undefined {
  try {
    return (JSON.parse(execFileSync('ip', ['-j', '-d', 'link', 'show', 'dev', name], { stdio: ['ignore', 'pipe', 'ignore'] }).toString()) as IpLink[])[0];
  } catch {
    return undefined;
  }
}

function linkNames(): string[] {
  return (JSON.parse(execFileSync('ip', ['-j', 'link', 'show']).toString()) as { ifname: string }[]).map((l) => l.ifname);
}

const ip = (...args: string[]): void => void execFileSync('ip', args);

describe('guest interfaces (root, network namespace, test guest)', { skip }, () => {
  const tmp = tempDir(`tsvirt-qemu-runtime-ifaces-${process.pid}-`);
  let ns: TestNetns;
  let conn: Connection;
  let guest: GuestConsole | undefined;

  before(async () => {
    ns = enterTestNetns('qrif');
    conn = await openEmbed(join(tmp.path, 'root'));
  });
  after(async () => {
    guest?.close();
    await destroyAll(conn);
    await conn?.close();
    ns?.leave();
    tmp.remove();
  });

  test('ethernet, bridge and direct in one guest: the guest reaches the host through each; all gone after destroy', async () => {
    ip('link', 'add', 'qrbr0', 'type', 'bridge');
    ip('addr', 'add', '10.72.0.1/24', 'dev', 'qrbr0');
    ip('link', 'set', 'qrbr0', 'up');
    ip('link', 'add', 'qrv0', 'type', 'veth', 'peer', 'name', 'qrv1');
    ip('addr', 'add', '10.73.0.1/24', 'dev', 'qrv1');
    ip('link', 'set', 'qrv0', 'up');
    ip('link', 'set', 'qrv1', 'up');
    const macs = ['52:54:00:1f:00:01', '52:54:00:1f:00:02', '52:54:00:1f:00:03'];
    const before = new Set(linkNames());
    const dom = await conn.domainDefineXML(
      guestDomainXML({
        name: 'if1',
        interfaces: [
          `<interface type='ethernet'><mac address='${macs[0]}'/><model type='virtio'/><bandwidth><inbound average='1000'/></bandwidth></interface>`,
          `<interface type='bridge'><mac address='${macs[1]}'/><source bridge='qrbr0'/><model type='virtio'/></interface>`,
          `<interface type='direct'><mac address='${macs[2]}'/><source dev='qrv0' mode='bridge'/><model type='virtio'/></interface>`,
        ],
      }),
    );
    guest = await startWithConsole(dom);
    const live = await dom.getXMLDesc();
    const targets = [...live.matchAll(/<target dev='([^']+)'\/>/g)].map((m) => m[1]!);
    assert.equal(targets.length, 3, live);
    const [tap, brTap, macvtap] = targets as [string, string, string];
    assert.match(tap, /^vnet\d+$/);
    assert.match(brTap, /^vnet\d+$/);
    assert.match(macvtap, /^macvtap\d+$/);

    // ethernet: host-side MAC fe:…, up, no master; tc limits from <bandwidth>.
    const t = link(tap)!;
    assert.equal(t.address, 'fe:54:00:1f:00:01');
    assert.ok(t.flags.includes('UP'));
    assert.equal(t.master, undefined);
    // (Inbound only: this machine's kernel has no police action, which outbound limits need.)
    assert.match(execFileSync('tc', ['qdisc', 'show', 'dev', tap]).toString(), /htb 1: root/);
    ip('addr', 'add', '10.71.0.1/24', 'dev', tap);
    // bridge: enslaved to qrbr0, host-side MAC.
    const b = link(brTap)!;
    assert.equal(b.master, 'qrbr0');
    assert.equal(b.address, 'fe:54:00:1f:00:02');
    // direct: a macvtap on qrv0 in bridge mode carrying the guest's MAC, up.
    const m = link(macvtap)!;
    assert.equal(m.linkinfo?.info_kind, 'macvtap');
    assert.equal(m.linkinfo?.info_data?.mode, 'bridge');
    assert.equal(m.address, macs[2]);
    assert.ok(m.flags.includes('UP'));

    const nics = await guest.waitReady(90_000);
    const byMac = new Map([...nics].map(([nic, mac]) => [mac, nic]));
    await guest.waitPrompt();
    for (const [i, net] of [
      [0, '10.71.0'],
      [1, '10.72.0'],
      [2, '10.73.0'],
    ] as const) {
      const nic = byMac.get(macs[i]!)!;
      await guest.run(`ip addr add ${net}.2/24 dev ${nic}`);
      const r = await guest.exec(`ping -c 1 -W 5 ${net}.1`);
      assert.equal(r.status, 0, `guest ${nic} reaches ${net}.1: ${r.output}`);
    }

    // domiftune on the ethernet NIC: read back, change live, tc follows.
    const params = await dom.getInterfaceParameters(tap, 0);
    assert.deepEqual(
      params.map((p) => [p.field, p.value]),
      [
        ['inbound.average', 1000],
        ['inbound.peak', 0],
        ['inbound.burst', 0],
        ['inbound.floor', 0],
        ['outbound.average', 0],
        ['outbound.peak', 0],
        ['outbound.burst', 0],
      ],
    );
    await dom.setInterfaceParameters(tap, [{ field: 'inbound.average', type: 2, value: 500 }], 1);
    assert.match(execFileSync('tc', ['class', 'show', 'dev', tap]).toString(), /rate 4Mbit/);
    assert.equal((await dom.getInterfaceParameters(macs[0]!, 1)).find((p) => p.field === 'inbound.average')?.value, 500);
    // The persistent definition did not change with a live-only tune.
    assert.match(await dom.getXMLDesc(2), /<inbound average='1000'\/>/);
    await dom.setInterfaceParameters(tap, [{ field: 'inbound.average', type: 2, value: 0 }], 1);
    assert.doesNotMatch(execFileSync('tc', ['qdisc', 'show', 'dev', tap]).toString(), /htb/);
    assert.doesNotMatch(await dom.getXMLDesc(), /<bandwidth>/);
    await assert.rejects(
      dom.setInterfaceParameters('nosuchdev', [{ field: 'inbound.average', type: 2, value: 1 }], 1),
      (err: unknown) => err instanceof VirtError && err.code === ErrorNumber.INVALID_ARG && /'nosuchdev' is not a known interface/.test(err.message),
    );

    await dom.destroy();
    guest.close();
    guest = undefined;
    // Every device tsvirt made is gone; the bridge and the veth (the admin's) are still there.
    assert.deepEqual(
      linkNames().filter((n) => !before.has(n)),
      [],
    );
    assert.ok(link('qrbr0') && link('qrv0'));
  });

  test('a start QEMU refuses leaves no tap or macvtap behind', async () => {
    const before = new Set(linkNames());
    const dom = await conn.domainDefineXML(
      guestDomainXML({
        name: 'if2',
        interfaces: [
          "<interface type='ethernet'><model type='virtio'/></interface>",
          "<interface type='direct'><source dev='qrv0' mode='vepa'/><model type='virtio'/></interface>",
          "<interface type='ethernet'><model type='nosuchnic'/></interface>",
        ],
      }),
    );
    await assert.rejects(dom.create(), (err: unknown) => err instanceof VirtError && /nosuchnic/.test(err.message));
    assert.deepEqual(linkNames().filter((n) => !before.has(n)), []);
    // A given tap name that exists is refused before anything is made.
    ip('tuntap', 'add', 'qrtaken', 'mode', 'tap');
    const d3 = await conn.domainDefineXML(
      guestDomainXML({
        name: 'if3',
        interfaces: ["<interface type='ethernet'><model type='virtio'/></interface>", "<interface type='ethernet'><target dev='qrtaken'/><model type='virtio'/></interface>"],
      }),
    );
    await assert.rejects(d3.create(), (err: unknown) => err instanceof VirtError && err.code === ErrorNumber.OPERATION_INVALID && /The qrtaken interface already exists/.test(err.message));
    assert.deepEqual(linkNames().filter((n) => !before.has(n)), ['qrtaken']);
  });

  test('seed: an unprivileged user boots the guest on its own pre-made tap (managed=no); the tap is unchanged', async () => {
    const user = testUser();
    ip('tuntap', 'add', 'mytap0', 'mode', 'tap', 'user', user.name);
    ip('addr', 'add', '10.74.0.1/24', 'dev', 'mytap0');
    ip('link', 'set', 'mytap0', 'up');
    chmodSync(tmp.path, 0o755);
    const home = join(tmp.path, 'home');
    for (const d of ['', 'config', 'data', 'cache', 'run']) {
      mkdirSync(join(home, d), { recursive: true, mode: 0o700 });
      chownSync(join(home, d), user.uid, user.gid);
    }
    const shape = (l: IpLink | undefined) =>
      l && {
        address: l.address,
        mtu: l.mtu,
        // carrier comes and goes with QEMU holding the tap; the admin's flags must not change.
        flags: l.flags.filter((f) => f !== 'NO-CARRIER' && f !== 'LOWER_UP'),
        tun: l.linkinfo?.info_data,
      };
    const before = shape(link('mytap0'));
    assert.ok(before);

    const child = spawn(process.execPath, [join(projectRoot, 'dist/test/drivers/qemu/unprivilegedChild.js')], {
      uid: user.uid,
      gid: user.gid,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: join(home),
        XDG_CONFIG_HOME: join(home, 'config'),
        XDG_DATA_HOME: join(home, 'data'),
        XDG_CACHE_HOME: join(home, 'cache'),
        XDG_RUNTIME_DIR: join(home, 'run'),
        TSVIRT_CHILD_TAP: 'mytap0',
        TSVIRT_CHILD_HOST_IP: '10.74.0.1',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const line = (prefix: string): Promise<string> =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const m = new RegExp(`^(${prefix}|FAILED)(.*)$`, 'm').exec(out);
          if (m) {
            child.stdout.off('data', onData);
            if (m[1] === 'FAILED') reject(new Error(`child failed: ${m[2]}\n${out}\n${err}`));
            else resolve(m[2]!.trim());
          }
        };
        const onData = (d: Buffer): void => {
          out += d.toString();
          check();
        };
        child.stdout.on('data', onData);
        child.once('exit', (code) => reject(new Error(`child exited ${code}: ${out}\n${err}`)));
        check();
      });
    const report = JSON.parse(await line('STARTED')) as Record<string, any>;
    assert.equal(report.uri, 'qemu:///session');
    assert.deepEqual(report.guestNics, { eth0: '52:54:00:5e:ed:01' });
    assert.match(report.ping, /1 packets received/);
    assert.equal(report.liveTarget, 'mytap0');
    // Without privileges: no tap can be made, no tc can be set.
    assert.equal(report.managedStart.code, ErrorNumber.CONFIG_UNSUPPORTED);
    assert.match(report.managedStart.message, /unprivileged driver cannot create taps/);
    assert.equal(report.iftune.code, ErrorNumber.OPERATION_UNSUPPORTED);
    assert.equal(report.iftune.message, 'Operation not supported: Network bandwidth tuning is not available in session mode');
    assert.ok(report.iftuneGet.every((p: { value: number }) => p.value === 0));
    assert.deepEqual(report.bandwidthStart, {
      code: ErrorNumber.OPERATION_UNSUPPORTED,
      message: 'Operation not supported: Network bandwidth tuning is not available in session mode',
      active: false,
    });
    // While QEMU holds it: the same tap, nothing about it changed.
    assert.deepEqual(shape(link('mytap0')), before);
    assert.equal(execFileSync('tc', ['qdisc', 'show', 'dev', 'mytap0']).toString().includes('htb'), false);

    child.stdin.end('stop\n');
    await line('STOPPED');
    await new Promise((r) => child.once('exit', r));
    assert.deepEqual(shape(link('mytap0')), before, 'the tap still exists, unchanged, after stop');
  });
});
