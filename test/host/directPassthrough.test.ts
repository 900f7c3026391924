import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { VirtError } from '../../src/errors/index.js';
import { prepareDirectPassthrough, restoreDirectPassthrough, startDirectInterface } from '../../src/host/directPassthrough.js';
import { createVeth, deleteLink, getLink, setLinkMac } from '../../src/host/link.js';
import { netHost, type NetHost } from '../../src/host/netHost.js';
import { SysfsRoot } from '../../src/host/sysfs.js';
import { tunGetIff } from '../../src/host/syscalls.js';
import { enterTestNetns, type TestNetns } from '../helpers/netns.js';
import { mountNetnsSysfs, type NetnsSysfs } from '../helpers/netnsSysfs.js';
import { SimulatedSriovHost } from '../helpers/sysfsTree.js';
import { skipUnless, tempDir } from '../helpers/system.js';

const EPERM = 1;
const GUEST_MAC = '52:54:00:6d:90:02';
const stateFiles = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);

function sriov(pfUp = true) {
  const sim = new SimulatedSriovHost('direct');
  const vfs = sim.addPf({ address: '0000:02:00.0', netdevs: [{ name: 'enp2s0f0', mac: '90:e2:ba:00:00:01', up: pfUp }], vfs: 4 });
  return { sim, vfs, host: sim.host, stateDir: join(sim.root, 'run/qemu') };
}

describe('direct passthrough on a simulated VF', () => {
  test('netdev case 28: VF MAC := guest MAC, macvtap passthru created down, up at CPU start; stop restores the VF MAC', async () => {
    const { sim, host, stateDir } = sriov();
    try {
      const vfIndex = sim.kernel.link('enp2s0f0v1')!.index;
      const dev = await prepareDirectPassthrough(host, { linkdev: 'enp2s0f0v1', guestMac: GUEST_MAC, stateDir, queues: 0 });
      assert.equal(readFileSync(join(stateDir, 'enp2s0f0_vf1'), 'utf8'), '{\n  "adminMac": "00:00:00:00:00:00",\n  "vlanTag": 0,\n  "mac": "9a:00:00:00:00:01"\n}\n');
      assert.match(dev.name, /^macvtap\d+$/);
      assert.deepEqual(sim.events, [
        `setAddress enp2s0f0v1 ${GUEST_MAC}`,
        // no <vlan>: the VLAN is cleared explicitly (libvirt sends it too; spec §1.10 DECISION)
        'setVfVlan enp2s0f0 vf1 vlan 0',
        `newLink ${dev.name} macvtap mode 8 link #${vfIndex} down`,
      ]);
      assert.equal(sim.kernel.link('enp2s0f0v1')!.mac, GUEST_MAC);
      assert.equal(sim.kernel.link(dev.name)!.up, false);
      assert.equal(sim.kernel.link('enp2s0f0')!.vfs![1]!.mac, '00:00:00:00:00:00', 'admin MAC untouched');

      sim.events.length = 0;
      await startDirectInterface(host, dev.name, 'enp2s0f0v1');
      assert.deepEqual(sim.events, ['setFlags enp2s0f0v1 up', `setFlags ${dev.name} up`]);

      sim.events.length = 0;
      assert.deepEqual(await restoreDirectPassthrough(host, { name: dev.name, linkdev: 'enp2s0f0v1', stateDir }), []);
      assert.deepEqual(sim.events, [
        `setFlags ${dev.name} down`,
        'setFlags enp2s0f0v1 down',
        `delLink ${dev.name}`,
        'setAddress enp2s0f0v1 9a:00:00:00:00:01',
        'setVfVlan enp2s0f0 vf1 vlan 0',
      ]);
      assert.equal(sim.kernel.link('enp2s0f0v1')!.mac, '9a:00:00:00:00:01');
      assert.equal(sim.kernel.link(dev.name), undefined);
      assert.deepEqual(stateFiles(stateDir), []);
    } finally {
      sim.remove();
    }
  });

  test('netdev case 29: VF refuses the MAC (EPERM): admin MAC + explicit VLAN 0 through the PF, VF rebound, netdev back', async () => {
    const { sim, host, stateDir } = sriov();
    try {
      sim.kernel.answer('setAddress', EPERM, { times: 1 });
      const dev = await prepareDirectPassthrough(host, { linkdev: 'enp2s0f0v1', guestMac: GUEST_MAC, stateDir, queues: 0 });
      assert.deepEqual(sim.events.slice(0, 5), [
        `setAddress enp2s0f0v1 ${GUEST_MAC} -> EPERM`,
        `setVfMac enp2s0f0 vf1 ${GUEST_MAC}`,
        'setVfVlan enp2s0f0 vf1 vlan 0',
        'unbind iavf 0000:02:10.1',
        'drivers_probe 0000:02:10.1',
      ]);
      assert.match(sim.events[5]!, /^newLink macvtap\d+ macvtap mode 8/);
      assert.equal(sim.events.length, 6, 'the VLAN is not sent a second time');
      assert.equal(sim.kernel.link('enp2s0f0v1')?.mac, GUEST_MAC, 'VF netdev came back with the admin MAC');
      await restoreDirectPassthrough(host, { name: dev.name, linkdev: 'enp2s0f0v1', stateDir });
    } finally {
      sim.remove();
    }
  });

  test('passthrough with <vlan>: explicit tag on the VF; refused with EPERM the start fails and is undone', async () => {
    const { sim, host, stateDir } = sriov();
    try {
      sim.kernel.answer('setVfVlan', EPERM, { times: 1 });
      await assert.rejects(
        prepareDirectPassthrough(host, { linkdev: 'enp2s0f0v1', guestMac: GUEST_MAC, vlan: { tags: [42] }, stateDir, queues: 0 }),
        /Cannot set interface vlanid to 42 for ifname enp2s0f0 vf 1: Operation not permitted/,
      );
      assert.deepEqual(sim.events, [
        `setAddress enp2s0f0v1 ${GUEST_MAC}`,
        'setVfVlan enp2s0f0 vf1 vlan 42 -> EPERM',
        'setAddress enp2s0f0v1 9a:00:00:00:00:01',
        'setVfVlan enp2s0f0 vf1 vlan 0',
      ]);
      assert.deepEqual(stateFiles(stateDir), []);
      assert.equal(sim.kernel.link('enp2s0f0v1')!.mac, '9a:00:00:00:00:01');
    } finally {
      sim.remove();
    }
  });

  test('passthrough on a VF whose PF is down: the online check fails before any change', async () => {
    const { sim, host, stateDir } = sriov(false);
    try {
      await assert.rejects(
        prepareDirectPassthrough(host, { linkdev: 'enp2s0f0v2', guestMac: GUEST_MAC, stateDir, queues: 0 }),
        /Unable to configure VF 2 of PF 'enp2s0f0' because the PF is not online/,
      );
      assert.deepEqual(sim.events, []);
      assert.deepEqual(stateFiles(stateDir), []);
    } finally {
      sim.remove();
    }
  });

  test('netdev case 30: passthrough on a non-VF with <vlan>: CONFIG_UNSUPPORTED, MAC restored, state file removed', async () => {
    const { sim, host, stateDir } = sriov();
    try {
      sim.addPciDevice('0000:05:00.0', { driver: 'e1000e', netdevs: [{ name: 'eno1', mac: '00:1b:21:00:00:01', up: true }] });
      await assert.rejects(
        prepareDirectPassthrough(host, { linkdev: 'eno1', guestMac: GUEST_MAC, vlan: { tags: [42] }, stateDir, queues: 0 }),
        (e: unknown) => {
          assert.ok(e instanceof VirtError);
          assert.equal(e.codeName, 'CONFIG_UNSUPPORTED');
          assert.equal(e.message, 'unsupported configuration: vlan can only be set for SR-IOV VFs, but eno1 is not a VF');
          return true;
        },
      );
      assert.deepEqual(stateFiles(stateDir), []);
      assert.equal(sim.kernel.link('eno1')!.mac, '00:1b:21:00:00:01');
      assert.ok(!sim.events.some((e) => e.startsWith('newLink')), 'no macvtap');
    } finally {
      sim.remove();
    }
  });
});

describe('direct passthrough on a plain NIC (a veth, real kernel, test netns)', { skip: skipUnless({ root: true, commands: ['ip', 'mount'] }) }, () => {
  let ns: TestNetns;
  let sys: NetnsSysfs;
  let host: NetHost;
  let state: ReturnType<typeof tempDir>;
  before(async () => {
    ns = enterTestNetns('host-netdev-pt');
    sys = mountNetnsSysfs('host-netdev-pt');
    host = netHost({ sysfs: new SysfsRoot(sys.root) });
    state = tempDir('tsv-host-netdev-pt-');
    await createVeth(host.netlink, 'hnnic0', 'hnnic1');
    await setLinkMac(host.netlink, 'hnnic0', '02:11:22:33:44:55');
  });
  after(async () => {
    await deleteLink(host.netlink, 'hnnic0', { missingOk: true });
    host?.netlink.close();
    state?.remove();
    sys?.unmount();
    ns?.leave();
  });

  test('start: NIC MAC := guest MAC, macvtap passthru with an open queue; stop: NIC MAC back, macvtap gone', async () => {
    const dev = await prepareDirectPassthrough(host, { linkdev: 'hnnic0', guestMac: GUEST_MAC, stateDir: state.path, vnetHdr: true });
    try {
      assert.equal(readFileSync(join(state.path, 'hnnic0'), 'utf8'), '{\n  "mac": "02:11:22:33:44:55"\n}\n');
      assert.equal((await getLink(host.netlink, 'hnnic0'))?.mac, GUEST_MAC);
      const m = await getLink(host.netlink, dev.name);
      assert.equal(m?.kind, 'macvtap');
      assert.equal(m?.mac, GUEST_MAC, 'passthru shares the NIC MAC, now the guest MAC');
      assert.equal(m?.up, false);
      assert.match(execFileSync('ip', ['-d', 'link', 'show', dev.name]).toString(), /macvtap mode passthru/);
      assert.equal(dev.fds.length, 1);
      const iff = tunGetIff(dev.fds[0]!);
      assert.ok(iff.ok);
      assert.equal(iff.name, dev.name);
      await startDirectInterface(host, dev.name, 'hnnic0');
      assert.equal((await getLink(host.netlink, 'hnnic0'))?.up, true);
      assert.equal((await getLink(host.netlink, dev.name))?.up, true);
    } finally {
      for (const fd of dev.fds) closeSync(fd);
    }
    assert.deepEqual(await restoreDirectPassthrough(host, { name: dev.name, linkdev: 'hnnic0', stateDir: state.path }), []);
    assert.equal(await getLink(host.netlink, dev.name), null);
    const nic = await getLink(host.netlink, 'hnnic0');
    assert.equal(nic?.mac, '02:11:22:33:44:55');
    assert.equal(nic?.up, false);
    assert.deepEqual(stateFiles(state.path), []);
  });

  test('netdev case 30: <vlan> on a plain NIC: refused, NIC MAC unchanged, no macvtap, no state file', async () => {
    const before = await getLink(host.netlink, 'hnnic0');
    await assert.rejects(
      prepareDirectPassthrough(host, { linkdev: 'hnnic0', guestMac: GUEST_MAC, vlan: { tags: [7] }, stateDir: state.path }),
      /unsupported configuration: vlan can only be set for SR-IOV VFs, but hnnic0 is not a VF/,
    );
    const after = await getLink(host.netlink, 'hnnic0');
    assert.equal(after?.mac, before?.mac);
    assert.deepEqual(stateFiles(state.path), []);
    assert.ok(!execFileSync('ip', ['-o', 'link']).toString().includes('macvtap'));
  });

  test('a failure after the macvtap exists (name taken) undoes the MAC change', async () => {
    await createVeth(host.netlink, 'hntaken', 'hntaken1');
    try {
      await assert.rejects(
        prepareDirectPassthrough(host, { linkdev: 'hnnic0', guestMac: GUEST_MAC, stateDir: state.path, name: 'hntaken' }),
        /The hntaken interface already exists/,
      );
      assert.equal((await getLink(host.netlink, 'hnnic0'))?.mac, '02:11:22:33:44:55');
      assert.deepEqual(stateFiles(state.path), []);
    } finally {
      await deleteLink(host.netlink, 'hntaken');
    }
  });
});
