// Hotplug with real QEMU and the test guest: an interface (a tap tsvirt makes, in a network
// namespace) and a disk attached live and seen by the guest, link state updated, then detached
// with DEVICE_DELETED from QEMU and DEVICE_REMOVED to the API, no tap left; --config changes
// only the persistent definition.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Connection, ErrorNumber, VirtError } from '../../../src/api/index.js';
import { guestSkipReason, type GuestConsole } from '../../helpers/guest.js';
import { enterTestNetns, type TestNetns } from '../../helpers/netns.js';
import { skipUnless, tempDir } from '../../helpers/system.js';
import { until } from '../../helpers/until.js';
import { destroyAll, EventLog, openEmbed, startWithConsole } from './driverHarness.js';
import { guestDomainXML } from './guestDomain.js';

const skip = skipUnless({ root: true, commands: ['qemu-system-x86_64', 'ip'] }) || guestSkipReason();

function links(): string[] {
  return (JSON.parse(execFileSync('ip', ['-j', 'link', 'show']).toString()) as { ifname: string }[]).map((l) => l.ifname);
}

describe('hotplug (root, network namespace, test guest)', { skip }, () => {
  const tmp = tempDir(`tsvirt-qemu-runtime-hotplug-${process.pid}-`);
  const root = join(tmp.path, 'root');
  let ns: TestNetns;
  let conn: Connection;
  let events: EventLog;
  let guest: GuestConsole;

  before(async () => {
    ns = enterTestNetns('qrhot');
    conn = await openEmbed(root);
    events = await EventLog.attach(conn);
  });
  after(async () => {
    guest?.close();
    await destroyAll(conn);
    await conn?.close();
    ns?.leave();
    tmp.remove();
  });

  test('attach an interface live: a tap on the host, a NIC in the guest; link down/up; detach: both gone', async () => {
    const dom = await conn.domainDefineXML(guestDomainXML({ name: 'hp1' }));
    guest = await startWithConsole(dom);
    const nics = await guest.waitReady(90_000);
    assert.equal(nics.size, 0);
    await guest.waitPrompt();

    // A NIC QEMU refuses after its tap and netdev were made leaves nothing behind: no tap, no
    // device in the live XML, and no netdev (the attach below reuses its id, hostnet0).
    const linksBefore = links();
    await assert.rejects(
      dom.attachDeviceFlags(`<interface type='ethernet'><mac address='52:54:00:aa:10:02'/><model type='nosuchnic'/></interface>`, 1),
      (err: unknown) => err instanceof VirtError && err.code === ErrorNumber.INTERNAL_ERROR && /device_add.*nosuchnic/.test(err.message),
    );
    assert.deepEqual(links(), linksBefore);
    assert.doesNotMatch(await dom.getXMLDesc(), /52:54:00:aa:10:02/);

    const mac = '52:54:00:aa:10:01';
    await dom.attachDeviceFlags(`<interface type='ethernet'><mac address='${mac}'/><model type='virtio'/></interface>`, 1 /* LIVE */);
    const live = await dom.getXMLDesc();
    const dev = /<target dev='(vnet\d+)'\/>/.exec(live)?.[1];
    assert.ok(dev, `live XML names the tap: ${live}`);
    assert.ok(links().includes(dev));
    assert.match(live, /<alias name='net0'\/>/);
    await events.wait((e) => e.eventId === 19 && e.devAlias === 'net0');
    // The guest sees the NIC with our MAC.
    await until(async () => (await guest.run('cat /sys/class/net/*/address')).includes(mac), 'the NIC in the guest');
    // The persistent definition is untouched by a live attach.
    assert.doesNotMatch(await dom.getXMLDesc(2), new RegExp(mac));

    // A NIC that arrives after boot is down in the guest; up, it shows the carrier.
    await guest.run('for n in /sys/class/net/eth*; do ip link set ${n##*/} up; done');
    await until(async () => (await guest.run('cat /sys/class/net/eth0/carrier')).trim() === '1', 'carrier on');
    await dom.updateDeviceFlags(`<interface type='ethernet'><mac address='${mac}'/><model type='virtio'/><link state='down'/></interface>`, 1);
    assert.match(await dom.getXMLDesc(), /<link state='down'\/>/);
    await until(async () => (await guest.run('cat /sys/class/net/eth0/carrier')).trim() === '0', 'carrier off');
    await dom.updateDeviceFlags(`<interface type='ethernet'><mac address='${mac}'/><model type='virtio'/><link state='up'/></interface>`, 1);
    await until(async () => (await guest.run('cat /sys/class/net/eth0/carrier')).trim() === '1', 'carrier on');

    await dom.detachDeviceFlags(`<interface type='ethernet'><mac address='${mac}'/><model type='virtio'/></interface>`, 1);
    await events.wait((e) => e.eventId === 15 && e.devAlias === 'net0');
    assert.doesNotMatch(await dom.getXMLDesc(), new RegExp(mac));
    await until(async () => !links().includes(dev), 'the tap to go');
    await until(async () => !(await guest.run('cat /sys/class/net/*/address')).includes(mac), 'the NIC to leave the guest');
    // The status file followed.
    assert.doesNotMatch(readFileSync(join(root, 'run', 'qemu', 'hp1.xml'), 'utf8'), new RegExp(mac));

    await assert.rejects(
      dom.detachDeviceFlags(`<interface type='ethernet'><mac address='${mac}'/></interface>`, 1),
      (err: unknown) => err instanceof VirtError && err.code === ErrorNumber.DEVICE_MISSING && /no device matching MAC address/.test(err.message),
    );
  });

  test('attach a disk live: the guest sees a virtio disk; detach removes it and its block nodes', async () => {
    const dom = await conn.domainLookupByName('hp1');
    const img = join(tmp.path, 'disk1.img');
    writeFileSync(img, Buffer.alloc(8 * 1024 * 1024));
    const xml = `<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='${img}'/><target dev='vdb' bus='virtio'/></disk>`;
    await dom.attachDeviceFlags(xml, 1);
    assert.match(await dom.getXMLDesc(), /<target dev='vdb' bus='virtio'\/>/);
    // The guest names disks in the order it finds them: its first virtio disk is vda.
    await until(async () => (await guest.run('cat /sys/block/vd*/size 2>/dev/null')).trim() === '16384', 'the disk in the guest');
    await assert.rejects(dom.attachDeviceFlags(xml, 1), (err: unknown) => err instanceof VirtError && /target vdb already exists/.test(err.message));

    await dom.detachDeviceFlags(xml, 1);
    await events.wait((e) => e.eventId === 15 && e.devAlias === 'virtio-disk1');
    await until(async () => !/vd/.test(await guest.run('ls /sys/block')), 'the disk to leave the guest');
    // The image can be attached again: its block nodes were deleted, not left holding it.
    await dom.attachDeviceFlags(xml, 1);
    await until(async () => (await guest.run('cat /sys/block/vd*/size 2>/dev/null')).trim() === '16384', 'the disk again');
    await dom.detachDeviceFlags(xml, 1);
  });

  test('--config changes the persistent definition only; both at once as libvirt', async () => {
    const dom = await conn.domainLookupByName('hp1');
    const mac = '52:54:00:aa:10:02';
    const xml = `<interface type='user'><mac address='${mac}'/><model type='virtio'/></interface>`;
    await dom.attachDeviceFlags(xml, 2 /* CONFIG */);
    assert.match(await dom.getXMLDesc(2), new RegExp(mac));
    assert.doesNotMatch(await dom.getXMLDesc(), new RegExp(mac));
    assert.match(readFileSync(join(root, 'etc', 'qemu', 'hp1.xml'), 'utf8'), new RegExp(mac));
    await dom.detachDeviceFlags(xml, 2);
    assert.doesNotMatch(await dom.getXMLDesc(2), new RegExp(mac));

    await dom.attachDeviceFlags(xml, 1 | 2);
    assert.match(await dom.getXMLDesc(2), new RegExp(mac));
    const live = await dom.getXMLDesc();
    assert.match(live, new RegExp(mac));
    const alias = new RegExp(`<mac address='${mac}'/>[\\s\\S]*?<alias name='([^']+)'/>`).exec(live)![1];
    await dom.detachDeviceFlags(xml, 1 | 2);
    assert.doesNotMatch(await dom.getXMLDesc(2), new RegExp(mac));
    await events.wait((e) => e.eventId === 15 && e.devAlias === alias);
    await dom.destroy();
  });
});
