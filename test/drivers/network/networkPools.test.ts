// Networks whose ports take a host device from a pool (macvtap modes and hostdev): the pool from
// <interface> or <address> lists or from the VFs of a <pf>, which needs SR-IOV hardware this
// machine does not have, so the PF and its VFs are a sysfs tree in a temporary directory (the
// lowest seam, DESIGN.md). Also session mode: only a bridge network on an existing bridge runs.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SysfsRoot } from '../../../src/host/sysfs.js';
import { NetworkDriver } from '../../../src/drivers/network/networkDriver.js';
import { NetworkDriverState } from '../../../src/drivers/network/networkDriverState.js';
import { enterTestNetns } from '../../helpers/netns.js';
import { skipUnless } from '../../helpers/system.js';
import { TAG } from './networkFixture.js';

const DOM = { domainName: 'guest1', domainUUID: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee' };


/**
 * A PF "tsvpf0" at 0000:03:00.0 with VFs 0000:03:10.0 (netdev tsvvf0), 0000:03:10.2 (tsvvf1)
 * and 0000:03:10.4 (no netdev: bound to vfio); "tsvpf1" at 0000:04:00.0 has no VFs.
 */
function sysfsTree(root: string): void {
  const devs = join(root, 'devices/pci0000:00');
  const pci = (addr: string) => join(devs, addr);
  const mk = (p: string) => mkdirSync(p, { recursive: true });
  mk(join(root, 'class/net'));
  mk(join(root, 'bus/pci/devices'));
  for (const [pf, addr] of [
    ['tsvpf0', '0000:03:00.0'],
    ['tsvpf1', '0000:04:00.0'],
  ] as const) {
    mk(join(pci(addr), 'net', pf));
    mk(join(root, 'class/net', pf));
    symlinkSync(pci(addr), join(root, 'class/net', pf, 'device'));
    symlinkSync(pci(addr), join(root, 'bus/pci/devices', addr));
  }
  [
    ['0000:03:10.0', 'tsvvf0'],
    ['0000:03:10.2', 'tsvvf1'],
    ['0000:03:10.4', null],
  ].forEach(([addr, netdev], i) => {
    mk(pci(addr!));
    if (netdev) mk(join(pci(addr!), 'net', netdev));
    symlinkSync(pci('0000:03:00.0'), join(pci(addr!), 'physfn'));
    symlinkSync(pci(addr!), join(pci('0000:03:00.0'), `virtfn${i}`));
    symlinkSync(pci(addr!), join(root, 'bus/pci/devices', addr!));
  });
  writeFileSync(join(pci('0000:03:00.0'), 'sriov_totalvfs'), '3\n');
}

describe('device pools', () => {
  let dir: string;
  let state: NetworkDriverState;
  let drv: NetworkDriver;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), `tsvirt-${TAG}-pools-${process.pid}-`));
    sysfsTree(join(dir, 'sys'));
    state = new NetworkDriverState({
      configDir: join(dir, 'etc'),
      runDir: join(dir, 'run'),
      privileged: true,
      sysfs: new SysfsRoot(join(dir, 'sys')),
      warn: () => undefined,
    });
    await state.initialize();
    drv = new NetworkDriver(state);
  });
  after(() => {
    drv?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('passthrough from a PF: the pool is its VFs with a netdev, each port takes one exclusively', async () => {
    const net = await drv.networkCreateXML(`<network><name>tsvpt</name><forward mode='passthrough'><pf dev='tsvpf0'/></forward></network>`, 0);
    assert.match(await drv.networkGetXMLDesc(net, 0), /<pf dev='tsvpf0'\/>\n {4}<interface dev='tsvvf0'\/>\n {4}<interface dev='tsvvf1'\/>\n {2}<\/forward>/);
    assert.match(await drv.networkGetXMLDesc(net, 1), /<forward mode='passthrough'>\n {4}<pf dev='tsvpf0'\/>\n {2}<\/forward>/);
    const a = await state.allocatePort('tsvpt', { ...DOM, mac: '52:54:00:00:02:01' });
    const b = await state.allocatePort('tsvpt', { ...DOM, mac: '52:54:00:00:02:02' });
    assert.deepEqual([a.plug, b.plug], [
      { type: 'direct', dev: 'tsvvf0', mode: 'passthrough' },
      { type: 'direct', dev: 'tsvvf1', mode: 'passthrough' },
    ]);
    assert.match(await drv.networkGetXMLDesc(net, 0), /<network connections='2'>[\s\S]*<interface dev='tsvvf0' connections='1'\/>/);
    await assert.rejects(state.allocatePort('tsvpt', { ...DOM, mac: '52:54:00:00:02:03' }), {
      code: 1,
      domain: 19,
      message: "internal error: network 'tsvpt' requires exclusive access to interfaces, but none are available",
    });
    await state.releasePort('tsvpt', a.uuid);
    const c = await state.allocatePort('tsvpt', { ...DOM, mac: '52:54:00:00:02:03' });
    assert.deepEqual(c.plug, { type: 'direct', dev: 'tsvvf0', mode: 'passthrough' });
    await drv.networkDestroy(net);
  });

  test('vepa over listed devices: the least used device each time', async () => {
    const net = await drv.networkCreateXML(
      `<network><name>tsvvepa</name><forward mode='vepa'><interface dev='eth-a'/><interface dev='eth-b'/></forward></network>`,
      0,
    );
    const devs: string[] = [];
    for (let i = 0; i < 3; i++) {
      const p = await state.allocatePort('tsvvepa', { ...DOM, mac: `52:54:00:00:03:0${i}` });
      devs.push(p.plug.type === 'direct' ? `${p.plug.dev}/${p.plug.mode}` : p.plug.type);
    }
    assert.deepEqual(devs, ['eth-a/vepa', 'eth-b/vepa', 'eth-a/vepa']);
    await assert.rejects(
      state.allocatePort('tsvvepa', { ...DOM, mac: '52:54:00:00:03:09', virtualport: { type: 'openvswitch', parameters: {} } }),
      { code: 67, message: "unsupported configuration: <virtualport type='openvswitch'> not supported for network 'tsvvepa' which uses a macvtap device" },
    );
    await drv.networkDestroy(net);
  });

  test('hostdev from a PF: VF PCI addresses, VLAN from the network or the portgroup', async () => {
    const net = await drv.networkCreateXML(
      `<network><name>tsvhd</name><forward mode='hostdev' managed='yes'><driver name='vfio'/><pf dev='tsvpf0'/></forward>
        <vlan><tag id='42'/></vlan><portgroup name='v7'><vlan><tag id='7'/></vlan></portgroup></network>`,
      0,
    );
    assert.match(await drv.networkGetXMLDesc(net, 0), /<address type='pci' domain='0x0000' bus='0x03' slot='0x10' function='0x4'\/>/);
    const a = await state.allocatePort('tsvhd', { ...DOM, mac: '52:54:00:00:04:01' });
    assert.deepEqual(a.plug, { type: 'hostdev-pci', address: { domain: 0, bus: 3, slot: 16, function: 0 }, driver: 'vfio', managed: true });
    assert.deepEqual(a.vlan, { trunk: false, tag: [{ id: 42 }] });
    // No floors on a hostdev network (nothing plugged, nothing taken from the pool).
    await assert.rejects(state.allocatePort('tsvhd', { ...DOM, mac: '52:54:00:00:04:05', bandwidth: { inbound: { floor: 1n } } }), { code: 84 });
    const b = await state.allocatePort('tsvhd', { ...DOM, mac: '52:54:00:00:04:02', portgroup: 'v7' });
    assert.deepEqual(b.vlan, { trunk: false, tag: [{ id: 7 }] });
    assert.equal(b.plug.type === 'hostdev-pci' && b.plug.address.function, 2);
    const c = await state.allocatePort('tsvhd', { ...DOM, mac: '52:54:00:00:04:03', vlan: { trunk: false, tag: [{ id: 9 }] } });
    assert.deepEqual(c.vlan, { trunk: false, tag: [{ id: 9 }] }, "the interface's own VLAN wins");
    await assert.rejects(state.allocatePort('tsvhd', { ...DOM, mac: '52:54:00:00:04:04' }), {
      message: "internal error: network 'tsvhd' requires exclusive access to interfaces, but none are available",
    });
    await drv.networkDestroy(net);
  });

  test('pool errors: a PF without VFs, a missing PF, a listed address that is not a VF', async () => {
    await assert.rejects(drv.networkCreateXML(`<network><name>tsvnv</name><forward mode='passthrough'><pf dev='tsvpf1'/></forward></network>`, 0), {
      code: 1,
      domain: 19,
      message: "internal error: No usable Vf's present on SRIOV PF tsvpf1",
    });
    await assert.rejects(drv.networkCreateXML(`<network><name>tsvnp</name><forward mode='hostdev'><pf dev='nosuchpf'/></forward></network>`, 0), {
      message: 'internal error: Could not get Virtual functions on nosuchpf',
    });
    await assert.rejects(
      drv.networkDefineXML(
        `<network><name>tsvnotvf</name><forward mode='hostdev'><address type='pci' domain='0' bus='3' slot='0' function='0'/></forward></network>`,
        0,
      ),
      {
        code: 67,
        message: `unsupported configuration: device '${join(dir, 'sys')}/bus/pci/devices/0000:03:00.0' in network 'tsvnotvf' is not an SR-IOV Virtual Function`,
      },
    );
    // Listed VFs are accepted and form the pool as they are.
    const ok = await drv.networkCreateXML(
      `<network><name>tsvlisted</name><forward mode='hostdev'><address type='pci' domain='0' bus='3' slot='0x10' function='2'/></forward></network>`,
      0,
    );
    const p = await state.allocatePort('tsvlisted', { ...DOM, mac: '52:54:00:00:05:01' });
    assert.equal(p.plug.type === 'hostdev-pci' && p.plug.address.function, 2);
    await drv.networkDestroy(ok);
  });
});

describe('session mode', { skip: skipUnless({ root: true, commands: ['ip'] }) }, () => {
  test('only a bridge network on an existing bridge starts; nothing on the host changes otherwise', async () => {
    const ns = enterTestNetns(`${TAG}-session`);
    const dir = mkdtempSync(join(tmpdir(), `tsvirt-${TAG}-session-${process.pid}-`));
    try {
      const state = new NetworkDriverState({ configDir: join(dir, 'etc'), runDir: join(dir, 'run'), privileged: false, warn: () => undefined });
      await state.initialize();
      const drv = new NetworkDriver(state);
      const nat = await drv.networkDefineXML(`<network><name>snat</name><forward mode='nat'/><bridge name='tsvs0'/><ip address='10.97.0.1' prefix='24'/></network>`, 0);
      await assert.rejects(drv.networkCreate(nat), {
        code: 84,
        domain: 19,
        message:
          "Operation not supported: network 'snat' with forward mode 'nat' cannot be started by an unprivileged (session) daemon; session networks support only <forward mode='bridge'/> with an existing <bridge name=…/>",
      });
      assert.equal(await drv.networkIsActive(nat), false);
      assert.doesNotMatch(execFileSync('ip', ['-o', 'link']).toString(), /tsvs0/);
      await assert.rejects(drv.networkCreateXML(`<network><name>spt</name><forward mode='passthrough'><interface dev='x'/></forward></network>`, 0), { code: 84 });

      execFileSync('ip', ['link', 'add', 'tsvsbr', 'type', 'bridge']);
      const br = await drv.networkCreateXML(`<network><name>sbr</name><forward mode='bridge'/><bridge name='tsvsbr'/></network>`, 0);
      const port = await state.allocatePort('sbr', { ...DOM, mac: '52:54:00:00:06:01' });
      assert.deepEqual(port.plug, { type: 'bridge', bridge: 'tsvsbr' });
      await drv.networkDestroy(br);
      await assert.rejects(
        drv.networkCreateXML(`<network><name>sbw</name><forward mode='bridge'/><bridge name='tsvsbr'/><bandwidth><inbound average='100'/></bandwidth></network>`, 0),
        { code: 84, domain: 0, message: 'Operation not supported: Network bandwidth tuning is not available in session mode' },
      );
      assert.doesNotMatch(execFileSync('tc', ['qdisc', 'show', 'dev', 'tsvsbr']).toString(), /htb/);
      drv.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
      ns.leave();
    }
  });
});
