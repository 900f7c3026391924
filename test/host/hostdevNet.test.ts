import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { VirtError } from '../../src/errors/index.js';
import { prepareHostdevInterface, restoreHostdevInterface } from '../../src/host/hostdevNet.js';
import { readNetConfig } from '../../src/host/netConfigState.js';
import { SimulatedSriovHost, type PfSpec } from '../helpers/sysfsTree.js';

const EPERM = 1;
const EINVAL = 22;

const GUEST_MAC = '52:54:00:6d:90:02';

/** PF enp2s0f0 (0000:02:00.0) with 4 VFs; VF i bound to iavf as enp2s0f0v<i>, MAC 9a:…:0i. */
function sriovHost(pf: Partial<PfSpec> = {}) {
  const sim = new SimulatedSriovHost('hostdev');
  const vfs = sim.addPf({
    address: '0000:02:00.0',
    netdevs: [{ name: 'enp2s0f0', mac: '90:e2:ba:00:00:01', up: true }],
    vfs: 4,
    ...pf,
  });
  const stateDir = join(sim.root, 'run/hostdevmgr');
  return { sim, vfs, stateDir, host: sim.host };
}

function run(fn: (h: ReturnType<typeof sriovHost>) => Promise<void>, pf?: Partial<PfSpec>) {
  return async () => {
    const h = sriovHost(pf);
    try {
      await fn(h);
    } finally {
      h.sim.remove();
    }
  };
}

const stateFiles = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);

function virtError(code: string, message: string) {
  return (e: unknown) => {
    assert.ok(e instanceof VirtError, String(e));
    assert.equal(e.codeName, code);
    assert.equal(e.message, message);
    return true;
  };
}

test(
  'netdev case 16: PF down: "PF is not online" before anything changes',
  run(
    async ({ sim, vfs, stateDir, host }) => {
      await assert.rejects(
        prepareHostdevInterface(host, { address: vfs[1]!, guestMac: GUEST_MAC, stateDir }),
        virtError(
          'INTERNAL_ERROR',
          "internal error: Unable to configure VF 1 of PF 'enp2s0f0' because the PF is not online. Please change host network config to put the PF online.",
        ),
      );
      assert.deepEqual(stateFiles(stateDir), [], 'no state file');
      assert.equal(sim.driverOf(vfs[1]!), 'iavf', 'VF still on its host driver');
      assert.deepEqual(sim.netdevsOf(vfs[1]!), ['enp2s0f0v1']);
      assert.equal(sim.kernel.link('enp2s0f0')!.up, false, 'PF still down: never brought up');
      assert.deepEqual(sim.events, []);
    },
    { netdevs: [{ name: 'enp2s0f0', mac: '90:e2:ba:00:00:01', up: false }] },
  ),
);

test(
  'netdev case 17: start: state file, then VFIO detach, then admin MAC and implicit VLAN clear (EPERM tolerated)',
  run(async ({ sim, vfs, stateDir, host }) => {
    sim.kernel.answer('setVfVlan', EPERM); // a DPU: VF MAC accepted, VLAN refused
    const p = await prepareHostdevInterface(host, { address: vfs[1]!, guestMac: GUEST_MAC, stateDir });
    assert.deepEqual([p.pf, p.vf], ['enp2s0f0', 1]);
    assert.equal(p.stateFile, join(stateDir, 'enp2s0f0_vf1'));
    assert.equal(
      readFileSync(p.stateFile, 'utf8'),
      '{\n  "adminMac": "00:00:00:00:00:00",\n  "vlanTag": 0,\n  "mac": "9a:00:00:00:00:01"\n}\n',
    );
    assert.deepEqual(sim.events, [
      'driver_override 0000:02:10.1 vfio-pci',
      'unbind iavf 0000:02:10.1',
      'drivers_probe 0000:02:10.1',
      `setVfMac enp2s0f0 vf1 ${GUEST_MAC}`,
      'setVfVlan enp2s0f0 vf1 vlan 0 -> EPERM',
    ]);
    assert.equal(sim.driverOf(vfs[1]!), 'vfio-pci');
    assert.equal(sim.kernel.link('enp2s0f0')!.vfs![1]!.mac, GUEST_MAC);
  }),
);

test(
  'netdev case 18: explicit VLAN refused: start fails, admin MAC restored, VF reattached, state file removed',
  run(async ({ sim, vfs, stateDir, host }) => {
    sim.kernel.answer('setVfVlan', EPERM, { times: 1 });
    await assert.rejects(
      prepareHostdevInterface(host, { address: vfs[1]!, guestMac: GUEST_MAC, vlan: { tags: [42] }, stateDir }),
      virtError('SYSTEM_ERROR', 'Cannot set interface vlanid to 42 for ifname enp2s0f0 vf 1: Operation not permitted'),
    );
    assert.deepEqual(sim.events, [
      'driver_override 0000:02:10.1 vfio-pci',
      'unbind iavf 0000:02:10.1',
      'drivers_probe 0000:02:10.1',
      `setVfMac enp2s0f0 vf1 ${GUEST_MAC}`,
      'setVfVlan enp2s0f0 vf1 vlan 42 -> EPERM',
      // undo: the VF's own MAC through the admin MAC, VLAN back to the saved 0, then reattach
      'setVfMac enp2s0f0 vf1 9a:00:00:00:00:01',
      'setVfVlan enp2s0f0 vf1 vlan 0',
      'driver_override 0000:02:10.1 \\n',
      'unbind vfio-pci 0000:02:10.1',
      'drivers_probe 0000:02:10.1',
    ]);
    assert.deepEqual(stateFiles(stateDir), []);
    assert.equal(sim.driverOf(vfs[1]!), 'iavf');
    assert.equal(sim.kernel.link('enp2s0f0v1')?.mac, '9a:00:00:00:00:01', 'VF netdev back with its own MAC');
  }),
);

test(
  'netdev case 19: stop: saved VF MAC as admin MAC, explicit VLAN 0, then reattach; state file gone',
  run(async ({ sim, vfs, stateDir, host }) => {
    await prepareHostdevInterface(host, { address: vfs[1]!, guestMac: GUEST_MAC, stateDir });
    sim.events.length = 0;
    const warnings = await restoreHostdevInterface(host, { address: vfs[1]!, stateDir });
    assert.deepEqual(warnings, []);
    assert.deepEqual(sim.events, [
      'setVfMac enp2s0f0 vf1 9a:00:00:00:00:01',
      'setVfVlan enp2s0f0 vf1 vlan 0',
      'driver_override 0000:02:10.1 \\n',
      'unbind vfio-pci 0000:02:10.1',
      'drivers_probe 0000:02:10.1',
    ]);
    assert.deepEqual(stateFiles(stateDir), []);
    assert.equal(sim.driverOf(vfs[1]!), 'iavf');
    assert.equal(sim.kernel.link('enp2s0f0v1')?.mac, '9a:00:00:00:00:01');
    // the VLAN restore is explicit: EPERM on it would be an error (case 21)
  }),
);

test(
  'netdev case 20: stop without a saved VF MAC: saved admin MAC, and 02:00:00:00:00:00 when the PF refuses all-zero',
  run(
    async ({ sim, vfs, stateDir, host }) => {
      await prepareHostdevInterface(host, { address: vfs[2]!, guestMac: GUEST_MAC, stateDir });
      assert.equal(readFileSync(join(stateDir, 'enp2s0f0_vf2'), 'utf8'), '{\n  "adminMac": "00:00:00:00:00:00",\n  "vlanTag": 0\n}\n');
      sim.events.length = 0;
      sim.kernel.answer('setVfMac', EINVAL, { match: (r) => r.mac === '00:00:00:00:00:00' });
      const warnings = await restoreHostdevInterface(host, { address: vfs[2]!, stateDir });
      assert.deepEqual(warnings, []);
      assert.deepEqual(sim.events.slice(0, 3), [
        'setVfMac enp2s0f0 vf2 00:00:00:00:00:00 -> EINVAL',
        'setVfMac enp2s0f0 vf2 02:00:00:00:00:00',
        'setVfVlan enp2s0f0 vf2 vlan 0',
      ]);
      assert.equal(sim.kernel.link('enp2s0f0')!.vfs![2]!.mac, '02:00:00:00:00:00');
    },
    // VF 2 is not bound to a host net driver
    { vfNetdev: (i) => (i === 2 ? null : { name: `enp2s0f0v${i}`, mac: `9a:00:00:00:00:0${i}` }) },
  ),
);

test(
  'netdev case 21: stop: a VLAN restore refused with EPERM is only reported; the VF is still reattached',
  run(async ({ sim, vfs, stateDir, host }) => {
    await prepareHostdevInterface(host, { address: vfs[1]!, guestMac: GUEST_MAC, stateDir });
    sim.kernel.answer('setVfVlan', EPERM);
    const logged: unknown[] = [];
    host.warn = (e) => logged.push(e);
    const warnings = await restoreHostdevInterface(host, { address: vfs[1]!, stateDir });
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]!.message, 'Cannot set interface vlanid to 0 for ifname enp2s0f0 vf 1: Operation not permitted');
    assert.deepEqual(logged, warnings);
    assert.equal(sim.driverOf(vfs[1]!), 'iavf');
    assert.deepEqual(stateFiles(stateDir), []);
  }),
);

test(
  'netdev case 22: dual-port PF: state file p1_vf<N>; at stop p0_vf<N> is absent and the port-1 retry finds it',
  run(
    async ({ sim, vfs, stateDir, host }) => {
      const p = await prepareHostdevInterface(host, { address: vfs[1]!, guestMac: GUEST_MAC, stateDir });
      assert.equal(p.pf, 'p1');
      assert.deepEqual(stateFiles(stateDir), ['p1_vf1']);
      assert.ok(sim.events.includes(`setVfMac p1 vf1 ${GUEST_MAC}`));
      sim.events.length = 0;
      await restoreHostdevInterface(host, { address: vfs[1]!, stateDir });
      assert.deepEqual(sim.events.slice(0, 2), ['setVfMac p1 vf1 9a:00:00:00:01:01', 'setVfVlan p1 vf1 vlan 0']);
      assert.deepEqual(stateFiles(stateDir), []);
    },
    {
      address: '0000:03:00.0',
      driver: 'mlx5_core',
      netdevs: [
        { name: 'p0', mac: '24:8a:07:00:00:01', up: true, physPortId: '248a070000000001\n' },
        { name: 'p1', mac: '24:8a:07:00:00:02', up: true, physPortId: '248a070000000002\n' },
      ],
      vfs: 2,
      vfDriver: 'mlx5_core',
      vfNetdev: (i) => ({ name: `p1v${i}`, mac: `9a:00:00:00:01:0${i}`, physPortId: '248a070000000002\n' }),
    },
  ),
);

test(
  'netdev case 22: dual-port PF with port 1 down: the online check looks at the VF\'s own port',
  run(
    async ({ vfs, stateDir, host }) => {
      await assert.rejects(
        prepareHostdevInterface(host, { address: vfs[0]!, guestMac: GUEST_MAC, stateDir }),
        /Unable to configure VF 0 of PF 'p1' because the PF is not online/,
      );
    },
    {
      address: '0000:03:00.0',
      netdevs: [
        { name: 'p0', mac: '24:8a:07:00:00:01', up: true, physPortId: 'A\n' },
        { name: 'p1', mac: '24:8a:07:00:00:02', up: false, physPortId: 'B\n' },
      ],
      vfs: 1,
      vfNetdev: () => ({ name: 'p1v0', mac: '9a:00:00:00:01:00', physPortId: 'B\n' }),
    },
  ),
);

test(
  'netdev case 23: VF netdev without phys_port_id: the first PF netdev gets the settings',
  run(
    async ({ sim, vfs, stateDir, host }) => {
      const p = await prepareHostdevInterface(host, { address: vfs[0]!, guestMac: GUEST_MAC, stateDir });
      assert.equal(p.pf, 'ens1f0');
      assert.ok(sim.events.includes(`setVfMac ens1f0 vf0 ${GUEST_MAC}`));
    },
    {
      address: '0000:04:00.0',
      netdevs: [
        { name: 'ens1f0', mac: '3c:fd:fe:00:00:01', up: true, physPortId: '3cfdfe000001\n' },
        { name: 'ens1f1', mac: '3c:fd:fe:00:00:02', up: true, physPortId: '3cfdfe000002\n' },
      ],
      vfs: 1,
      vfNetdev: () => ({ name: 'ens1f0v0', mac: '9a:00:00:00:02:00' }),
    },
  ),
);

test(
  'netdev case 24: a PCI device that is not a VF is refused before detach',
  run(async ({ sim, stateDir, host }) => {
    sim.addPciDevice('0000:05:00.0', { driver: 'e1000e', netdevs: [{ name: 'eno1', mac: '00:1b:21:00:00:01', up: true }] });
    await assert.rejects(
      prepareHostdevInterface(host, { address: '0000:05:00.0', guestMac: GUEST_MAC, stateDir }),
      virtError('CONFIG_UNSUPPORTED', 'unsupported configuration: Interface type hostdev is currently supported on SR-IOV Virtual Functions only'),
    );
    assert.deepEqual(sim.events, []);
    assert.equal(sim.driverOf('0000:05:00.0'), 'e1000e');
  }),
);

test(
  'netdev case 25: a legacy state file (admin MAC line, VLAN line) is read and deleted',
  run(async ({ sim, vfs, stateDir, host }) => {
    await prepareHostdevInterface(host, { address: vfs[3]!, guestMac: GUEST_MAC, stateDir });
    writeFileSync(join(stateDir, 'enp2s0f0_vf3'), '52:54:00:01:02:03\n42\n');
    const saved = await readNetConfig(host, 'enp2s0f0', 3, stateDir);
    assert.deepEqual(saved, { path: join(stateDir, 'enp2s0f0_vf3'), adminMac: '52:54:00:01:02:03', vlan: { tags: [42] } });
    assert.deepEqual(stateFiles(stateDir), []);
    // and at stop it is applied: admin MAC and VLAN 42
    writeFileSync(join(stateDir, 'enp2s0f0_vf3'), '52:54:00:01:02:03\n42\n');
    sim.events.length = 0;
    await restoreHostdevInterface(host, { address: vfs[3]!, stateDir });
    assert.deepEqual(sim.events.slice(0, 2), ['setVfMac enp2s0f0 vf3 52:54:00:01:02:03', 'setVfVlan enp2s0f0 vf3 vlan 42']);
    // one legacy line is the VF MAC
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(join(stateDir, 'enp2s0f0_vf3'), '9A:00:00:00:00:03');
    assert.deepEqual((await readNetConfig(host, 'enp2s0f0', 3, stateDir))?.mac, '9a:00:00:00:00:03');
  }),
);

test(
  'netdev case 26: a state file with neither MAC is an internal error',
  run(async ({ host, stateDir }) => {
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(join(stateDir, 'enp2s0f0_vf1'), '{"vlanTag": 5}');
    await assert.rejects(readNetConfig(host, 'enp2s0f0', 1, stateDir), (e: unknown) => {
      assert.ok(e instanceof VirtError);
      assert.equal(e.codeName, 'INTERNAL_ERROR');
      assert.match(e.message, /network device saved config file '.*enp2s0f0_vf1' has unexpected contents, missing both 'MAC' and 'adminMAC'/);
      return true;
    });
    writeFileSync(join(stateDir, 'enp2s0f0_vf1'), '{"mac": "zz:00"}');
    await assert.rejects(readNetConfig(host, 'enp2s0f0', 1, stateDir), /cannot parse MAC address 'zz:00' from file/);
    writeFileSync(join(stateDir, 'enp2s0f0_vf1'), '{"mac": ');
    await assert.rejects(readNetConfig(host, 'enp2s0f0', 1, stateDir), /invalid json in net device saved config file/);
  }),
);

test(
  'netdev case 27: stop without a state file: nothing sent, VF reattached',
  run(async ({ sim, vfs, stateDir, host }) => {
    await prepareHostdevInterface(host, { address: vfs[1]!, guestMac: GUEST_MAC, stateDir });
    rmSync(join(stateDir, 'enp2s0f0_vf1'));
    sim.events.length = 0;
    const warnings = await restoreHostdevInterface(host, { address: vfs[1]!, stateDir });
    assert.deepEqual(warnings, []);
    assert.deepEqual(sim.events, ['driver_override 0000:02:10.1 \\n', 'unbind vfio-pci 0000:02:10.1', 'drivers_probe 0000:02:10.1']);
  }),
);

test(
  'trunk or several VLAN tags on a VF are refused before anything changes',
  run(async ({ sim, vfs, stateDir, host }) => {
    await assert.rejects(
      prepareHostdevInterface(host, { address: vfs[1]!, guestMac: GUEST_MAC, vlan: { tags: [1, 2], trunk: true }, stateDir }),
      virtError('CONFIG_UNSUPPORTED', 'unsupported configuration: vlan trunking is not supported by SR-IOV network devices'),
    );
    assert.deepEqual(sim.events, []);
    assert.deepEqual(stateFiles(stateDir), []);
  }),
);

test(
  'unmanaged hostdev: the VF must already be on vfio-pci; it is left there at stop',
  run(async ({ sim, vfs, stateDir, host }) => {
    await assert.rejects(
      prepareHostdevInterface(host, { address: vfs[1]!, guestMac: GUEST_MAC, stateDir, managed: false }),
      virtError('OPERATION_INVALID', 'Requested operation is not valid: Unmanaged PCI device 0000:02:10.1 must be manually detached from the host'),
    );
    assert.deepEqual(sim.events, []);
    // an admin detached it
    sim.unbind(vfs[1]!, 'iavf');
    sim.bind(vfs[1]!, 'vfio-pci');
    await prepareHostdevInterface(host, { address: vfs[1]!, guestMac: GUEST_MAC, stateDir, managed: false });
    assert.deepEqual(sim.writes, []);
    await restoreHostdevInterface(host, { address: vfs[1]!, stateDir, managed: false });
    assert.equal(sim.driverOf(vfs[1]!), 'vfio-pci');
  }),
);

test(
  'a transport failure while clearing the VLAN fails the start and undoes it (never taken for EPERM)',
  run(async ({ sim, vfs, stateDir, host }) => {
    sim.kernel.answer('setVfVlan', 'malformed', { times: 1 });
    await assert.rejects(prepareHostdevInterface(host, { address: vfs[1]!, guestMac: GUEST_MAC, stateDir }), /malformed netlink response message/);
    assert.deepEqual(stateFiles(stateDir), []);
    assert.equal(sim.driverOf(vfs[1]!), 'iavf');
  }),
);
