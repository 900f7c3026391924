// The command line proven, not just frozen: domains defined with the QEMU driver's defaults and
// started from buildQemuCommandLine's argv boot the test guest under real QEMU (TCG), which
// reports the NICs and MACs it sees, its disks, and answers on its console — over user-mode
// networking, and over tap fds opened the way the runtime opens them (in a network namespace).
import assert from 'node:assert/strict';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { parseDomainXML, type DomainDef } from '../../../src/conf/domain/index.js';
import { probeQemu, type QemuCaps } from '../../../src/drivers/qemu/capabilities.js';
import { buildQemuCommandLine, type CommandLineContext } from '../../../src/drivers/qemu/commandLine.js';
import { chardevSocketPath } from '../../../src/drivers/qemu/devices/chardev.js';
import { qemuCapsSource, qemuDomainDefaults } from '../../../src/drivers/qemu/domainDefaults.js';
import { libcFunc, lastErrno } from '../../../src/host/syscalls.js';
import { guestCmdline, guestInitrd, guestKernel, guestSkipReason, launchGuest, type LaunchedGuest } from '../../helpers/guest.js';
import { enterTestNetns, type TestNetns } from '../../helpers/netns.js';
import { skipUnless, tempDir } from '../../helpers/system.js';

const skip = skipUnless({ commands: ['qemu-system-x86_64', 'qemu-img'] }) || guestSkipReason();

interface Booted extends LaunchedGuest {
  def: DomainDef;
  args: string[];
}

/** Defines `xml` with the QEMU driver's defaults, builds its argv, runs it and opens the console. */
async function boot(caps: QemuCaps, dir: string, xml: string, extra: Partial<CommandLineContext> = {}, fds?: Map<number, number>): Promise<Booted> {
  const def = parseDomainXML(xml, { driver: qemuDomainDefaults(qemuCapsSource([caps])) });
  const ctx: CommandLineContext = {
    caps,
    vmName: def.name,
    qmpSocket: join(dir, `${def.name}.qmp`),
    chardevSocketDir: dir,
    libDir: dir,
    logDir: dir,
    netFds: new Map(),
    ptyAsSocket: true,
    ...extra,
  };
  const cmd = buildQemuCommandLine(def, ctx);
  const g = await launchGuest({
    binary: cmd.binary,
    args: cmd.args,
    name: def.name,
    qmpSocket: ctx.qmpSocket,
    consoleSocket: chardevSocketPath(ctx, 'charserial0'),
    logFile: join(dir, `${def.name}.log`),
    fds,
  });
  return { def, args: cmd.args, ...g };
}

function domainXml(name: string, devices: string, vcpus = 1, machine = 'pc'): string {
  return `<domain type='qemu'>
  <name>${name}</name>
  <memory unit='MiB'>256</memory>
  <vcpu>${vcpus}</vcpu>
  <os>
    <type arch='x86_64' machine='${machine}'>hvm</type>
    <kernel>${guestKernel}</kernel>
    <initrd>${guestInitrd}</initrd>
    <cmdline>${guestCmdline}</cmdline>
  </os>
  <features>
    <acpi/>
  </features>
  <on_reboot>destroy</on_reboot>
  <devices>
    <serial type='pty'/>
${devices}
  </devices>
</domain>`;
}

describe('domains started from buildQemuCommandLine boot the test guest', { skip }, () => {
  const tmp = tempDir(`tsvirt-qemu-cmdline-boot-${process.pid}-`);
  let caps: QemuCaps;
  before(async () => {
    caps = await probeQemu('qemu-system-x86_64', { workDir: tmp.path });
  });
  after(() => tmp.remove());

  test('virtio NICs on user networking, raw and qcow2 virtio disks, rng, balloon', async (t) => {
    const raw = join(tmp.path, 'root.raw');
    const qcow = join(tmp.path, 'data.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'raw', raw, '16M']);
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', qcow, '32M']);
    const macs = ['52:54:00:c0:01:01', '52:54:00:c0:01:02'];
    const xml = domainXml(
      'boot-user',
      `    <disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='${raw}'/><target dev='vda' bus='virtio'/></disk>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2' cache='none'/><source file='${qcow}'/><target dev='vdb' bus='virtio'/></disk>
    <interface type='user'><mac address='${macs[0]}'/><model type='virtio'/><rom enabled='no'/></interface>
    <interface type='user'><mac address='${macs[1]}'/><model type='virtio'/><rom enabled='no'/></interface>
    <rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>`,
    );
    const t0 = performance.now();
    const g = await boot(caps, tmp.path, xml);
    try {
      const nics = await g.guest.waitReady(120_000);
      t.diagnostic(`ready after ${Math.round(performance.now() - t0)} ms`);
      assert.deepEqual([...nics.values()].sort(), [...macs].sort());
      await g.guest.waitPrompt();
      // 16 MiB and 32 MiB in 512-byte sectors: both images reached the guest as virtio disks
      assert.equal((await g.guest.run('cat /sys/block/vda/size')).trim(), String((16 << 20) / 512));
      assert.equal((await g.guest.run('cat /sys/block/vdb/size')).trim(), String((32 << 20) / 512));
      // the aliases written into the live definition are the ids QEMU knows
      const pci = JSON.stringify(await g.qmp.execute('query-pci'));
      for (const id of ['net0', 'net1', 'virtio-disk0', 'virtio-disk1', 'rng0', 'balloon0']) assert.ok(pci.includes(`"${id}"`), `${id} in query-pci`);
      assert.deepEqual(
        (g.def.devices.interfaces ?? []).map((n) => n.alias),
        ['net0', 'net1'],
      );
    } finally {
      await g.stop();
    }
  });

  test('a Q35 machine: virtio NIC and disk each in a pcie-root-port the definition gained', async () => {
    const raw = join(tmp.path, 'q35.raw');
    execFileSync('qemu-img', ['create', '-q', '-f', 'raw', raw, '8M']);
    const mac = '52:54:00:c0:03:01';
    const xml = domainXml(
      'boot-q35',
      `    <disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='${raw}'/><target dev='vda' bus='virtio'/></disk>
    <interface type='user'><mac address='${mac}'/><model type='virtio'/><rom enabled='no'/></interface>`,
      1,
      'q35',
    );
    const g = await boot(caps, tmp.path, xml);
    try {
      const nics = await g.guest.waitReady(120_000);
      assert.deepEqual([...nics.values()], [mac]);
      await g.guest.waitPrompt();
      assert.equal((await g.guest.run('cat /sys/block/vda/size')).trim(), String((8 << 20) / 512));
      // the NIC sits behind a root port: its PCI path in the guest goes through a bridge
      const path = await g.guest.run('readlink -f /sys/class/net/eth0/device');
      assert.match(path, /pci0000:00\/0000:00:0[1-9a-f]\.\d\/0000:0[1-9]:00\.0/);
      const ports = (g.def.devices.controllers ?? []).filter((c) => c.model === 'pcie-root-port');
      assert.ok(ports.length >= 2, 'root ports were added');
    } finally {
      await g.stop();
    }
  });

  describe('tap interfaces with fds opened by the caller', { skip: skipUnless({ root: true }) }, () => {
    let ns: TestNetns | undefined;
    before(() => {
      ns = enterTestNetns('qemucmd');
    });
    after(() => ns?.leave());

    test('ethernet (one queue) and bridge (two queues) interfaces come up with their MACs', async (t) => {
      const taps = { t0: openTap('tsvq-a', 1), t1: openTap('tsvq-b', 2) };
      execFileSync('ip', ['link', 'add', 'tsvq-br', 'type', 'bridge']);
      execFileSync('ip', ['link', 'set', 'tsvq-b', 'master', 'tsvq-br']);
      const fds = new Map<number, number>();
      const netFds = new Map<string, number[]>();
      let next = 3;
      for (const [alias, list] of [
        ['net0', taps.t0],
        ['net1', taps.t1],
      ] as const) {
        const qemuFds = list.map((fd) => {
          fds.set(next, fd);
          return next++;
        });
        netFds.set(alias, qemuFds);
      }
      const macs = ['52:54:00:c0:02:01', '52:54:00:c0:02:02'];
      const xml = domainXml(
        'boot-tap',
        `    <interface type='ethernet'><mac address='${macs[0]}'/><target dev='tsvq-a' managed='no'/><model type='virtio'/><rom enabled='no'/></interface>
    <interface type='bridge'><mac address='${macs[1]}'/><source bridge='tsvq-br'/><model type='virtio'/><driver queues='2'/><mtu size='1400'/><rom enabled='no'/></interface>`,
        // the guest uses as many queue pairs as it has CPUs
        2,
      );
      let g: Booted | undefined;
      try {
        g = await boot(caps, tmp.path, xml, { netFds }, fds);
        const nics = await g.guest.waitReady(120_000);
        assert.deepEqual([...nics.values()].sort(), [...macs].sort());
        await g.guest.waitPrompt();
        const eth = [...nics].find(([, m]) => m === macs[1])![0];
        // two queue pairs on the multiqueue NIC, and the MTU the host side offered
        const out = await g.guest.run(`ls /sys/class/net/${eth}/queues; cat /sys/class/net/${eth}/mtu`);
        t.diagnostic(out);
        assert.match(out, /rx-1/);
        assert.match(out, /tx-1/);
        assert.match(out, /^1400$/m);
        assert.ok(g.args.includes('{"type":"tap","fds":"4:5","id":"hostnet1"}'));
      } finally {
        await g?.stop();
        for (const fd of [...taps.t0, ...taps.t1]) closeSync(fd);
      }
    });
  });
});

const TUNSETIFF = 0x400454ca;
const IFF_TAP = 0x0002;
const IFF_NO_PI = 0x1000;
const IFF_VNET_HDR = 0x4000;
const IFF_MULTI_QUEUE = 0x0100;

/** Opens a tap (queues fds of one multiqueue tap), as the runtime does before start. */
function openTap(name: string, queues: number): number[] {
  mkdirSync('/dev/net', { recursive: true });
  const ioctl = libcFunc('int ioctl(int fd, unsigned long request, ...)');
  const fds: number[] = [];
  for (let q = 0; q < queues; q++) {
    const fd = openSync('/dev/net/tun', 'r+');
    const ifr = Buffer.alloc(40);
    ifr.write(name, 0, 'latin1');
    ifr.writeUInt16LE(IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | (queues > 1 ? IFF_MULTI_QUEUE : 0), 16);
    if ((ioctl(fd, TUNSETIFF, 'void *', ifr) as number) < 0) throw new Error(`TUNSETIFF ${name}: errno ${lastErrno()}`);
    fds.push(fd);
  }
  execFileSync('ip', ['link', 'set', name, 'up']);
  return fds;
}

