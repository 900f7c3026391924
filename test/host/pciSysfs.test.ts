import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  detachPciDevice,
  isVfNetdev,
  pciDeviceDir,
  pciDriverName,
  pciHeaderType,
  pickNetdev,
  reattachPciDevice,
  vfInfo,
  vfLocationOfNetdev,
  vfNetdevOfPf,
  vfPciDirs,
} from '../../src/host/pciSysfs.js';
import { SimulatedSriovHost } from '../helpers/sysfsTree.js';

function withHost(fn: (sim: SimulatedSriovHost) => Promise<void>) {
  return async () => {
    const sim = new SimulatedSriovHost('pci');
    try {
      await fn(sim);
    } finally {
      sim.remove();
    }
  };
}

test(
  'a PF with N VFs: virtfn order, VF index, PF netdev and VF netdev both ways',
  withHost(async (sim) => {
    const vfs = sim.addPf({ address: '0000:02:00.0', netdevs: [{ name: 'enp2s0f0', mac: '90:e2:ba:00:00:01', up: true }], vfs: 10 });
    assert.equal(vfs[9], '0000:02:11.1');
    const s = sim.sysfs;
    const pfDir = await s.resolve(pciDeviceDir('0000:02:00.0'));
    assert.deepEqual(
      (await vfPciDirs(s, pfDir!)).map((d) => d.split('/').pop()),
      vfs,
    );
    const loc = await vfInfo(s, pciDeviceDir(vfs[7]!), -1);
    assert.deepEqual([loc.pf, loc.vf], ['enp2s0f0', 7]);
    assert.equal(await vfNetdevOfPf(s, 'enp2s0f0', 7), 'enp2s0f0v7');
    assert.equal(await isVfNetdev(s, 'enp2s0f0v7'), true);
    assert.equal(await isVfNetdev(s, 'enp2s0f0'), false);
    const back = await vfLocationOfNetdev(s, 'enp2s0f0v7');
    assert.deepEqual([back.pf, back.vf], ['enp2s0f0', 7]);
    assert.equal(await pciHeaderType(s, vfs[0]!), 0);
    await assert.rejects(vfNetdevOfPf(s, 'enp2s0f0', 10), /PF 'enp2s0f0' has no virtual function 10/);
  }),
);

test(
  'netdev case 22: dual-port PF: the VF netdev\'s phys_port_id picks the PF port',
  withHost(async (sim) => {
    const vfs = sim.addPf({
      address: '0000:03:00.0',
      driver: 'mlx5_core',
      netdevs: [
        { name: 'p0', mac: '24:8a:07:00:00:01', up: true, physPortId: '248a070000000001\n' },
        { name: 'p1', mac: '24:8a:07:00:00:02', up: true, physPortId: '248a070000000002\n' },
      ],
      vfs: 2,
      vfNetdev: (i) => ({ name: `p1v${i}`, mac: `9a:00:00:00:01:0${i}`, physPortId: '248a070000000002\n' }),
    });
    const loc = await vfInfo(sim.sysfs, pciDeviceDir(vfs[1]!), -1);
    assert.deepEqual([loc.pf, loc.vf], ['p1', 1]);
    assert.equal((await vfLocationOfNetdev(sim.sysfs, 'p1v1')).pf, 'p1');
    // without the VF netdev (on VFIO), port index 0 and 1 are the candidates
    assert.equal((await vfInfo(sim.sysfs, pciDeviceDir(vfs[1]!), 0)).pf, 'p0');
    assert.equal((await vfInfo(sim.sysfs, pciDeviceDir(vfs[1]!), 1)).pf, 'p1');
    // VF N's netdev from the PF port: chosen by the port's phys_port_id
    assert.equal(await vfNetdevOfPf(sim.sysfs, 'p1', 0), 'p1v0');
  }),
);

test(
  'netdev case 23: VF netdev without phys_port_id while the PF ports have one: the first PF netdev',
  withHost(async (sim) => {
    const vfs = sim.addPf({
      address: '0000:04:00.0',
      driver: 'i40e',
      netdevs: [
        { name: 'ens1f0', mac: '3c:fd:fe:00:00:01', up: true, physPortId: '3cfdfe000001\n' },
        { name: 'ens1f1', mac: '3c:fd:fe:00:00:02', up: true, physPortId: '3cfdfe000002\n' },
      ],
      vfs: 1,
      vfNetdev: () => ({ name: 'ens1f0v0', mac: '9a:00:00:00:02:00' }),
    });
    assert.equal((await vfInfo(sim.sysfs, pciDeviceDir(vfs[0]!), -1)).pf, 'ens1f0');
  }),
);

test(
  'pickNetdev: phys_port_name selects PF ports over representors; no net dir is null; an empty one an error',
  withHost(async (sim) => {
    sim.addPciDevice('0000:06:00.0', {
      driver: 'mlx5_core',
      netdevs: [
        { name: 'eth0rep', mac: '02:00:00:00:00:10', physPortName: 'pf0vf0' },
        { name: 'eth1', mac: '02:00:00:00:00:11', physPortName: 'p1' },
      ],
    });
    assert.equal(await pickNetdev(sim.sysfs, pciDeviceDir('0000:06:00.0'), 0, null), 'eth1');
    sim.addPciDevice('0000:07:00.0', { driver: null });
    assert.equal(await pickNetdev(sim.sysfs, pciDeviceDir('0000:07:00.0'), 0, null), null);
    const { mkdirSync } = await import('node:fs');
    mkdirSync(sim.sysfs.path(`${pciDeviceDir('0000:07:00.0')}/net`));
    await assert.rejects(pickNetdev(sim.sysfs, pciDeviceDir('0000:07:00.0'), 0, null), /Could not find any network device under PCI device at .*0000:07:00.0/);
  }),
);

test(
  'VFIO detach and reattach write driver_override, unbind and drivers_probe in that order',
  withHost(async (sim) => {
    const vfs = sim.addPf({ address: '0000:02:00.0', netdevs: [{ name: 'enp2s0f0', mac: '90:e2:ba:00:00:01', up: true }], vfs: 2 });
    await detachPciDevice(sim.sysfs, vfs[1]!);
    assert.equal(await pciDriverName(sim.sysfs, vfs[1]!), 'vfio-pci');
    assert.deepEqual(sim.netdevsOf(vfs[1]!), [], 'the VF netdev is gone');
    await reattachPciDevice(sim.sysfs, vfs[1]!);
    assert.equal(await pciDriverName(sim.sysfs, vfs[1]!), 'iavf');
    assert.deepEqual(sim.netdevsOf(vfs[1]!), ['enp2s0f0v1']);
    assert.deepEqual(sim.writes, [
      'driver_override 0000:02:10.1 vfio-pci',
      'unbind iavf 0000:02:10.1',
      'drivers_probe 0000:02:10.1',
      'driver_override 0000:02:10.1 \\n',
      'unbind vfio-pci 0000:02:10.1',
      'drivers_probe 0000:02:10.1',
    ]);
  }),
);
