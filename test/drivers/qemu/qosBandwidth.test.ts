// Interface bandwidth and network floors at the driver level, with real QEMU, the test guest
// and the real kernel's tc, in a network namespace: limits on a device at start and hotplug,
// cleared at detach and stop (an admin's tap, managed='no', outlives the guest, so what is left
// on it is visible); a type='network' interface's floor plugged at start and hotplug, changed
// live through domiftune and update-device (re-admitted by the network; an overcommit is
// refused and changes no tc state), unplugged at detach and stop; 'floor' refused on anything
// but type='network'.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Connection, type Domain, ErrorNumber, VirtError } from '../../../src/api/index.js';
import { guestSkipReason, type GuestConsole } from '../../helpers/guest.js';
import { enterTestNetns, type TestNetns } from '../../helpers/netns.js';
import { skipUnless, tempDir } from '../../helpers/system.js';
import { until } from '../../helpers/until.js';
import { destroyAll, openEmbed, startWithConsole } from './driverHarness.js';
import { guestDomainXML } from './guestDomain.js';
import { floorFilters, htbClasses, qdiscHandles, rootQdisc } from './qosTc.js';

const skip = skipUnless({ root: true, commands: ['qemu-system-x86_64', 'ip', 'tc', 'dnsmasq'] }) || guestSkipReason();

const BR = 'qosbw0';
const MAC_N = '52:54:00:52:00:01';
const MAC_E = '52:54:00:52:00:02';
const MAC_HN = '52:54:00:52:00:03';
const MAC_HE = '52:54:00:52:00:04';
const MAC_HT = '52:54:00:52:00:05';
const UINT = 2;

/** Everything tc shows for a device, to prove that a refused change left it alone. */
function tcState(dev: string): string {
  return ['qdisc', 'class', 'filter'].map((k) => execFileSync('tc', [k, 'show', 'dev', dev]).toString()).join('\n');
}

/** (id, rate) of the floor classes on the bridge, and (handle, MAC, flowid) of their filters. */
function floors(): { classes: [string, number][]; filters: [string, string, string][] } {
  return {
    classes: htbClasses(BR)
      .filter((c) => !['1:1', '1:2'].includes(c.id))
      .map((c) => [c.id, c.rate]),
    filters: floorFilters(BR).filters.map((f) => [f.handle, f.mac, f.flowid]),
  };
}

/** The <interface> element with this MAC in a domain XML. */
function netXml(xml: string, mac: string): string {
  return xml.split('<interface ').find((part) => part.includes(`<mac address='${mac}'`))?.split('</interface>')[0] ?? '';
}

function rateOf(dev: string, id: string): number | undefined {
  return htbClasses(dev).find((c) => c.id === id)?.rate;
}

describe('interface bandwidth and floors through the QEMU driver (root, network namespace, test guest)', { skip }, () => {
  const tmp = tempDir(`tsvirt-qosbw-${process.pid}-`);
  const root = join(tmp.path, 'root');
  let ns: TestNetns;
  let conn: Connection;
  let guest: GuestConsole | undefined;
  let dom: Domain;
  const adminRoot = new Map<string, string | undefined>();

  before(async () => {
    ns = enterTestNetns('qosbw');
    // Admin-made taps (managed='no'): they stay after the guest, so leftovers would show.
    for (const t of ['qosadm0', 'qosadm1']) {
      execFileSync('ip', ['tuntap', 'add', t, 'mode', 'tap']);
      adminRoot.set(t, rootQdisc(t));
    }
    conn = await openEmbed(root);
    await conn.networkCreateXML(`<network>
  <name>qosnet2</name>
  <bridge name='${BR}'/>
  <bandwidth><inbound average='1000' peak='5000'/></bandwidth>
  <ip address='192.168.234.1' netmask='255.255.255.0'/>
</network>`);
  });
  after(async () => {
    guest?.close();
    await destroyAll(conn);
    for (const n of (await conn?.listAllNetworks(2).catch(() => [])) ?? []) await n.destroy().catch(() => undefined);
    await conn?.close();
    ns?.leave();
    tmp.remove();
  });

  test('start: a floor class on the bridge and limits on the admin\'s tap; domiftune and update-device change them live, an overcommit changes nothing', async () => {
    dom = await conn.domainDefineXML(
      guestDomainXML({
        name: 'qosP',
        interfaces: [
          `<interface type='network'><mac address='${MAC_N}'/><source network='qosnet2'/><model type='virtio'/><bandwidth><inbound floor='200'/></bandwidth></interface>`,
          `<interface type='ethernet'><mac address='${MAC_E}'/><target dev='qosadm0' managed='no'/><model type='virtio'/><bandwidth><inbound average='1000' peak='2000' burst='64'/></bandwidth></interface>`,
        ],
      }),
    );
    guest = await startWithConsole(dom);
    assert.deepEqual(floors(), { classes: [['1:3', 200]], filters: [['800::803', MAC_N, '1:3']] });
    assert.equal(rateOf(BR, '1:2'), 4800, '1:2 = 5000 − 200 kB/s');
    // The tap's inbound is what the host transmits into it: htb on its root.
    assert.equal(rateOf('qosadm0', '1:1'), 1000);
    assert.match(execFileSync('tc', ['class', 'show', 'dev', 'qosadm0']).toString(), /ceil 16Mbit /, 'peak 2000 kB/s');

    // domiftune: a bigger floor is re-admitted and the class follows; 1:2 gives it up.
    await dom.setInterfaceParameters(MAC_N, [{ field: 'inbound.floor', type: UINT, value: 400 }], 1);
    assert.deepEqual(floors().classes, [['1:3', 400]]);
    assert.equal(rateOf(BR, '1:2'), 4600);
    assert.match(netXml(await dom.getXMLDesc(), MAC_N), /<bandwidth>\s*<inbound floor='400'\/>\s*<\/bandwidth>/);
    assert.equal((await dom.getInterfaceParameters(MAC_N, 1)).find((p) => p.field === 'inbound.floor')?.value, 400);

    // Beyond the network's peak: the network's error, and not one tc change.
    const snapshot = tcState(BR);
    await assert.rejects(dom.setInterfaceParameters(MAC_N, [{ field: 'inbound.floor', type: UINT, value: 6000 }], 1), (err: unknown) => {
      assert.ok(err instanceof VirtError);
      assert.equal(err.code, ErrorNumber.OPERATION_INVALID);
      assert.equal(
        err.message,
        `Requested operation is not valid: Cannot plug '${MAC_N}' interface into '${BR}' because new combined inbound floor=6000 would overcommit peak=5000 on network 'qosnet2'`,
      );
      return true;
    });
    assert.equal(tcState(BR), snapshot);
    assert.match(netXml(await dom.getXMLDesc(), MAC_N), /<inbound floor='400'\/>/);

    // Floor to 0: unplugged (class, qdisc, filter); back to a floor: plugged again.
    await dom.setInterfaceParameters(MAC_N, [{ field: 'inbound.floor', type: UINT, value: 0 }], 1);
    assert.deepEqual(floors(), { classes: [], filters: [] });
    assert.equal(qdiscHandles(BR).includes('3:'), false);
    assert.equal(rateOf(BR, '1:2'), 5000);
    assert.doesNotMatch(netXml(await dom.getXMLDesc(), MAC_N), /<bandwidth>/);
    await dom.setInterfaceParameters(MAC_N, [{ field: 'inbound.floor', type: UINT, value: 250 }], 1);
    assert.deepEqual(floors(), { classes: [['1:3', 250]], filters: [['800::803', MAC_N, '1:3']] });

    // update-device with a new <bandwidth> goes the same way.
    await dom.updateDeviceFlags(
      `<interface type='network'><mac address='${MAC_N}'/><source network='qosnet2'/><model type='virtio'/><bandwidth><inbound floor='300'/></bandwidth></interface>`,
      1,
    );
    assert.deepEqual(floors().classes, [['1:3', 300]]);
    assert.equal(rateOf(BR, '1:2'), 4700);

    // 'floor' only for type='network'; an average on the admin's tap is fine.
    await assert.rejects(dom.setInterfaceParameters(MAC_E, [{ field: 'inbound.floor', type: UINT, value: 10 }], 1), (err: unknown) => {
      assert.ok(err instanceof VirtError);
      assert.equal(err.code, ErrorNumber.OPERATION_UNSUPPORTED);
      assert.match(err.message, /Invalid use of 'floor' on interface with MAC address 52:54:00:52:00:02 - 'floor' is only supported for interface type 'network'/);
      return true;
    });
    await dom.setInterfaceParameters('qosadm0', [{ field: 'inbound.average', type: UINT, value: 500 }], 1);
    assert.equal(rateOf('qosadm0', '1:1'), 500);
    // Cleared: the device's root goes back to noqueue, as libvirt leaves a tap without limits.
    await dom.setInterfaceParameters('qosadm0', [{ field: 'inbound.average', type: UINT, value: 0 }], 1);
    assert.equal(rootQdisc('qosadm0'), 'noqueue');
    assert.doesNotMatch(netXml(await dom.getXMLDesc(), MAC_E), /<bandwidth>/);
    await dom.setInterfaceParameters('qosadm0', [{ field: 'inbound.average', type: UINT, value: 700 }], 1);
    assert.equal(rateOf('qosadm0', '1:1'), 700);
  });

  test('hotplug: a network NIC gets its floor class and an admin\'s tap its limits; detach removes exactly those', async () => {
    await guest!.waitReady(120_000);
    await guest!.waitPrompt();
    await dom.attachDeviceFlags(
      `<interface type='network'><mac address='${MAC_HN}'/><source network='qosnet2'/><model type='virtio'/><bandwidth><inbound floor='100'/></bandwidth></interface>`,
      1,
    );
    assert.deepEqual(floors(), {
      classes: [
        ['1:3', 300],
        ['1:4', 100],
      ],
      filters: [
        ['800::803', MAC_N, '1:3'],
        ['800::804', MAC_HN, '1:4'],
      ],
    });
    assert.equal(rateOf(BR, '1:2'), 4600, '1:2 = 5000 − 300 − 100 kB/s');
    await dom.attachDeviceFlags(
      `<interface type='ethernet'><mac address='${MAC_HE}'/><target dev='qosadm1' managed='no'/><model type='virtio'/><bandwidth><inbound average='300'/></bandwidth></interface>`,
      1,
    );
    assert.equal(rateOf('qosadm1', '1:1'), 300);
    // A tap tsvirt makes, without limits: libvirt 9.0's noqueue root; with limits: htb.
    await dom.attachDeviceFlags(`<interface type='ethernet'><mac address='${MAC_HT}'/><model type='virtio'/></interface>`, 1);
    const tap = /<mac address='52:54:00:52:00:05'\/>\s*<target dev='(vnet\d+)'\/>/.exec(await dom.getXMLDesc())?.[1];
    assert.ok(tap);
    assert.equal(rootQdisc(tap), 'noqueue');
    await dom.setInterfaceParameters(tap, [{ field: 'inbound.average', type: UINT, value: 125 }], 1);
    assert.equal(rootQdisc(tap), 'htb');
    assert.equal(rateOf(tap, '1:1'), 125);
    await until(async () => (await guest!.run('cat /sys/class/net/*/address')).includes(MAC_HE), 'both new NICs in the guest');

    await dom.detachDeviceFlags(`<interface type='network'><mac address='${MAC_HN}'/><source network='qosnet2'/></interface>`, 1);
    await dom.detachDeviceFlags(`<interface type='ethernet'><mac address='${MAC_HE}'/><target dev='qosadm1' managed='no'/></interface>`, 1);
    await dom.detachDeviceFlags(`<interface type='ethernet'><mac address='${MAC_HT}'/></interface>`, 1);
    await until(() => floors().classes.length === 1 && !qdiscHandles('qosadm1').includes('1:'), 'the detached NICs\' tc state to go');
    assert.deepEqual(floors(), { classes: [['1:3', 300]], filters: [['800::803', MAC_N, '1:3']] });
    assert.equal(qdiscHandles(BR).includes('4:'), false);
    assert.equal(rateOf(BR, '1:2'), 4700);
    assert.ok(execFileSync('ip', ['link', 'show', 'qosadm1']).toString().includes('qosadm1'), 'the admin\'s tap is still there');
  });

  test('stop: no class, qdisc or filter of the guest is left; the admin\'s tap has its default qdisc back', async () => {
    await dom.destroy();
    assert.deepEqual(floors(), { classes: [], filters: [] });
    assert.deepEqual(
      htbClasses(BR).map((c) => c.id),
      ['1:1', '1:2'],
    );
    assert.equal(rateOf(BR, '1:2'), 5000);
    assert.equal(qdiscHandles('qosadm0').includes('1:'), false, 'no htb left on qosadm0');
    assert.equal(rootQdisc('qosadm0'), adminRoot.get('qosadm0'), 'the qdisc the tap had before the guest');
    assert.equal(rootQdisc('qosadm1'), adminRoot.get('qosadm1'));
  });
});
