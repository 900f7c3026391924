// The QoS seed, end to end with the real kernel, real QEMU and the test guest (TCG), in a
// network namespace of its own: two trusted guests with floors on an isolated network whose
// bridge has inbound QoS. A guest types `ip link set eth0 address …`; QEMU says
// NIC_RX_FILTER_CHANGED; tsvirt asks query-rx-filter and moves exactly that guest's u32 filter
// (800::<800+id>) to the new MAC; the hash table 800: and the other guest's filter stay; IPv4
// sent to the new MAC is counted in the guest's class; the live XML shows the guest's MAC as
// libvirt 11.2 does (<mac … currentAddress='…'/>). A stop leaves no tc state of that guest.
// Also: the kernel refusing to delete 800:: while it holds filters; a MAC change while no
// driver listens, followed on reattach; an untrusted guest (no query-rx-filter on the wire, no
// tc change: case 44, driver half); trust inherited from the network, refused by a portgroup;
// a trusted macvtap on a veth following MAC and promiscuous
// mode (case 45, driver half).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Connection, Domain } from '../../../src/api/index.js';
import { QemuConsole } from '../../../src/drivers/qemu/console.js';
import { QemuPtyConsole } from '../../../src/drivers/qemu/ptyConsole.js';
import { observeQmpTraffic, type QmpTraffic } from '../../../src/drivers/qemu/qmp.js';
import { GuestConsole, guestSkipReason } from '../../helpers/guest.js';
import { enterTestNetns, type TestNetns } from '../../helpers/netns.js';
import { skipUnless, tempDir } from '../../helpers/system.js';
import { until } from '../../helpers/until.js';
import { destroyAll, openEmbed, startWithConsole } from './driverHarness.js';
import { guestDomainXML } from './guestDomain.js';
import { deleteHashTable, floorFilters, htbClasses, qdiscHandles, type FloorFilter } from './qosTc.js';

const skip = skipUnless({ root: true, commands: ['qemu-system-x86_64', 'ip', 'tc', 'dnsmasq'] }) || guestSkipReason();

const BR = 'qosbr0';
const NET_XML = `<network>
  <name>qosnet</name>
  <bridge name='${BR}'/>
  <bandwidth><inbound average='1000' peak='5000'/></bandwidth>
  <ip address='192.168.233.1' netmask='255.255.255.0'/>
</network>`;

const MAC_A = '52:54:00:51:0a:01';
const MAC_B = '52:54:00:51:0b:01';
const MAC_C = '52:54:00:51:0c:01';
const MAC_D = '52:54:00:51:0d:01';

function floorNic(mac: string, floor: number, trust: boolean): string {
  return `<interface type='network'${trust ? " trustGuestRxFilters='yes'" : ''}><mac address='${mac}'/><source network='qosnet'/><model type='virtio'/><bandwidth><inbound floor='${floor}'/></bandwidth></interface>`;
}

/** Polls fn every 10 ms until it holds; returns the milliseconds it took. */
function filterOf(handle: string): FloorFilter | undefined {
  return floorFilters(BR).filters.find((f) => f.handle === handle);
}

function statusFile(root: string, name: string): string {
  return readFileSync(join(root, 'run', 'qemu', `${name}.xml`), 'utf8');
}

function monitorPath(root: string, name: string): string {
  return /<monitor path='([^']+)'/.exec(statusFile(root, name))![1]!;
}

function linkInfo(name: string): { address: string; flags: string[] } {
  return (JSON.parse(execFileSync('ip', ['-j', 'link', 'show', 'dev', name]).toString()) as { address: string; flags: string[] }[])[0]!;
}

/**
 * The guest pings the host: the host's echo replies are IPv4 the bridge sends to the guest's
 * MAC, so they must land in the guest's class. The host's neighbour entry may still name an
 * old MAC: it is dropped first, so the host asks (ARP) and learns the guest's current one.
 */
async function pingFromGuest(guest: GuestConsole): Promise<void> {
  spawnSync('ip', ['neigh', 'flush', 'dev', BR]);
  const r = await guest.exec('ping -c 3 -i 0.2 -W 3 192.168.233.1');
  assert.equal(r.status, 0, `guest ping: ${r.output}`);
}

function classPackets(id: string): number {
  const c = htbClasses(BR).find((x) => x.id === id);
  assert.ok(c, `class ${id} on ${BR}`);
  return c.packets;
}

describe('QoS: a guest changes its MAC (root, network namespace, test guest)', { skip }, () => {
  const tmp = tempDir(`tsvirt-qos-${process.pid}-`);
  const root = join(tmp.path, 'root');
  let ns: TestNetns;
  let conn: Connection;
  const traffic: (QmpTraffic & { at: number })[] = [];
  let stopObserving: (() => void) | undefined;
  const consoles: GuestConsole[] = [];
  let domB: Domain;
  let guestB: GuestConsole;

  before(async () => {
    ns = enterTestNetns('qos');
    stopObserving = observeQmpTraffic((m) => traffic.push({ ...m, at: Date.now() }));
    conn = await openEmbed(root);
    await conn.networkCreateXML(NET_XML);
  });
  after(async () => {
    for (const c of consoles) c.close();
    await destroyAll(conn);
    for (const n of (await conn?.listAllNetworks(2).catch(() => [])) ?? []) await n.destroy().catch(() => undefined);
    await conn?.close();
    stopObserving?.();
    ns?.leave();
    tmp.remove();
  });

  async function boot(name: string, nics: string[]): Promise<{ dom: Domain; guest: GuestConsole }> {
    const dom = await conn.domainDefineXML(guestDomainXML({ name, interfaces: nics }));
    const guest = await startWithConsole(dom);
    consoles.push(guest);
    return { dom, guest };
  }

  async function guestReady(guest: GuestConsole, ip?: string): Promise<void> {
    await guest.waitReady(120_000);
    await guest.waitPrompt();
    // No DHCP on this network: the guest's client goes, a fixed address comes.
    await guest.run('killall udhcpc 2>/dev/null; true');
    if (ip) assert.equal((await guest.exec(`ip addr add ${ip}/24 dev eth0`)).status, 0);
  }

  /**
   * Types the MAC change on the guest console and waits (polling) for the filter `handle` to
   * match the new MAC. Returns the time from typing to the new filter, for the diagnostics only:
   * speed is bench/'s business.
   */
  async function changeMac(guest: GuestConsole, handle: string, newMac: string): Promise<number> {
    const t0 = Date.now();
    const typed = guest.exec(`ip link set eth0 address ${newMac}`);
    await until(() => filterOf(handle)?.mac === newMac, `filter ${handle} matching ${newMac}`);
    const ms = Date.now() - t0;
    assert.equal((await typed).status, 0);
    return ms;
  }

  test('two trusted guests with floors: a MAC change moves exactly that guest\'s filter; traffic to the new MAC is counted in its class; stop leaves nothing', async (t) => {
    const a = await boot('qosA', [floorNic(MAC_A, 200, true)]);
    const b = await boot('qosB', [floorNic(MAC_B, 300, true)]);
    domB = b.dom;
    guestB = b.guest;

    // Both plugged: classes 1:3 and 1:4, each with a filter on its guest's MAC (destination
    // MAC at -14, IPv4 EtherType at -2), in the hash table 800:.
    const before = floorFilters(BR);
    assert.ok(before.handles.includes('800:'), `hash table 800: on ${BR}: ${before.handles.join(' ')}`);
    assert.deepEqual(
      before.filters.map((f) => [f.handle, f.mac, f.flowid, f.ipv4]),
      [
        ['800::803', MAC_A, '1:3', true],
        ['800::804', MAC_B, '1:4', true],
      ],
    );
    const classes = htbClasses(BR);
    assert.deepEqual(
      classes.filter((c) => c.id === '1:3' || c.id === '1:4').map((c) => [c.id, c.parent, c.rate]),
      [
        ['1:3', '1:1', 200],
        ['1:4', '1:1', 300],
      ],
    );

    await guestReady(a.guest, '192.168.233.10');
    await guestReady(b.guest, '192.168.233.11');
    // Before any change, too: what the host sends to A is counted in 1:3.
    let n = classPackets('1:3');
    await pingFromGuest(a.guest);
    assert.ok(classPackets('1:3') >= n + 3, 'pings to A counted in 1:3');

    // The seed: A changes its MAC.
    const ms1 = await changeMac(a.guest, '800::803', '52:54:00:00:00:99');
    t.diagnostic(`A → 52:54:00:00:00:99: filter 800::803 followed ${ms1} ms after the command was typed`);
    let now = floorFilters(BR);
    assert.ok(now.handles.includes('800:'), 'hash table 800: still there');
    assert.deepEqual(
      now.filters.map((f) => [f.handle, f.mac, f.flowid]),
      [
        ['800::803', '52:54:00:00:00:99', '1:3'],
        ['800::804', MAC_B, '1:4'],
      ],
    );
    assert.equal(now.filters.some((f) => f.mac === MAC_A), false, 'no filter for the old MAC');
    // tsvirt asked QEMU for A's filter (and only with trust, see case 44).
    const monA = monitorPath(root, 'qosA');
    assert.ok(traffic.some((m) => m.path === monA && m.kind === 'command' && m.command === 'query-rx-filter' && m.args?.name === 'net0'));
    // The guest's new MAC really carries traffic, and the host's IPv4 to it lands in 1:3.
    n = classPackets('1:3');
    await pingFromGuest(a.guest);
    assert.ok(classPackets('1:3') >= n + 3, 'pings to the new MAC counted in 1:3');

    // The live XML shows the guest's MAC next to the configured one; the inactive XML does
    // not; the status file keeps it.
    // (Written in the same job as the filter, just after it: polled.)
    await until(async () => (await a.dom.getXMLDesc()).includes(`<mac address='${MAC_A}' currentAddress='52:54:00:00:00:99'/>`), 'currentAddress in the live XML');
    assert.doesNotMatch(await a.dom.getXMLDesc(2 /* INACTIVE */), /currentAddress/);
    await until(() => statusFile(root, 'qosA').includes(`currentAddress='52:54:00:00:00:99'`), 'currentAddress in the status file');

    // Again, with other MACs, on both guests.
    const ms2 = await changeMac(a.guest, '800::803', '52:54:00:00:00:42');
    const ms3 = await changeMac(b.guest, '800::804', '52:54:00:00:00:77');
    t.diagnostic(`A → 52:54:00:00:00:42: ${ms2} ms; B → 52:54:00:00:00:77: ${ms3} ms`);
    now = floorFilters(BR);
    assert.deepEqual(
      now.filters.map((f) => [f.handle, f.mac, f.flowid]),
      [
        ['800::803', '52:54:00:00:00:42', '1:3'],
        ['800::804', '52:54:00:00:00:77', '1:4'],
      ],
    );
    n = classPackets('1:4');
    await pingFromGuest(b.guest);
    assert.ok(classPackets('1:4') >= n + 3, 'pings to B\'s new MAC counted in 1:4');
    // Back to the configured MAC: the live XML has nothing extra to show.
    await changeMac(b.guest, '800::804', MAC_B);
    await until(async () => (await b.dom.getXMLDesc()).includes(`<mac address='${MAC_B}'/>`), 'no currentAddress in the live XML');

    // Why the exact handle matters: this kernel refuses to delete the hash table while it
    // holds filters (Linux ≥ 4.20), and nothing changes.
    const refused = deleteHashTable(BR);
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /Not allowed to delete root node/);
    assert.equal(floorFilters(BR).filters.length, 2);

    // A stops: its class, leaf qdisc and filter go; B's stay; 1:2 gets A's floor back.
    await a.dom.destroy();
    now = floorFilters(BR);
    assert.deepEqual(now.filters.map((f) => [f.handle, f.mac, f.flowid]), [['800::804', MAC_B, '1:4']]);
    assert.ok(now.handles.includes('800:'));
    const left = htbClasses(BR);
    assert.equal(left.some((c) => c.id === '1:3'), false, 'class 1:3 removed');
    assert.ok(left.some((c) => c.id === '1:4' && c.rate === 300), 'class 1:4 intact');
    assert.equal(left.find((c) => c.id === '1:2')?.rate, 4700, '1:2 = 5000 − 300 kB/s');
    assert.equal(qdiscHandles(BR).includes('3:'), false, 'leaf qdisc 3: removed');
    assert.ok(qdiscHandles(BR).includes('4:'), 'leaf qdisc 4: intact');
  });

  test('reattach: a MAC change made while no driver listened is followed when the driver comes back, and later changes still are', async (t) => {
    // The driver lets go (QEMU keeps running); the guest changes its MAC meanwhile, so
    // QEMU's event reaches no one and QEMU sends no more until someone queries.
    // The status file names the console QEMU serves (a pty, or a unix socket with ptyAsSocket).
    const [, consolePath, consoleType] = /<console alias='serial0' path='([^']+)' type='(pty|unix)'/.exec(statusFile(root, 'qosB'))!;
    guestB.close();
    await conn.close();
    const endpoint = consoleType === 'pty' ? new QemuPtyConsole(consolePath!) : new QemuConsole(consolePath!);
    const raw = new GuestConsole(await endpoint.open());
    consoles.push(raw);
    assert.equal((await raw.exec('ip link set eth0 address 52:54:00:00:00:78')).status, 0);
    assert.match(await raw.run('cat /sys/class/net/eth0/address'), /52:54:00:00:00:78/);
    assert.equal(filterOf('800::804')?.mac, MAC_B, 'nobody moved the filter');
    raw.close();

    const t0 = Date.now();
    conn = await openEmbed(root);
    t.diagnostic(`reattach with the rx-filter sync took ${Date.now() - t0} ms`);
    assert.equal(filterOf('800::804')?.mac, '52:54:00:00:00:78', 'the reattach synced the filter');
    domB = await conn.domainLookupByName('qosB');
    assert.match(await domB.getXMLDesc(), /currentAddress='52:54:00:00:00:78'/);

    // The query re-armed QEMU's event: the next change is followed as before.
    guestB = new GuestConsole(await domB.openConsole());
    consoles.push(guestB);
    const ms = await changeMac(guestB, '800::804', '52:54:00:00:00:79');
    t.diagnostic(`B → 52:54:00:00:00:79 after the reattach: ${ms} ms`);
  });

  test('netdev case 44: NIC_RX_FILTER_CHANGED without trust → no query-rx-filter on the wire, no tc change (driver)', async () => {
    const c = await boot('qosC', [floorNic(MAC_C, 100, false)]);
    await guestReady(c.guest);
    const monC = monitorPath(root, 'qosC');
    const mine = floorFilters(BR).filters.find((f) => f.mac === MAC_C);
    assert.ok(mine, 'C has its floor filter');
    const snapshot = JSON.stringify(floorFilters(BR));

    assert.equal((await c.guest.exec('ip link set eth0 address 52:54:00:00:00:c9')).status, 0);
    assert.match(await c.guest.run('cat /sys/class/net/eth0/address'), /52:54:00:00:00:c9/);
    // QEMU told the driver (once: at boot or now) and then nothing more; give the event
    // handler time to run, then check that nothing happened.
    await until(() => traffic.some((m) => m.path === monC && m.kind === 'event' && m.event === 'NIC_RX_FILTER_CHANGED'), 'an rx-filter event from C');
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(
      traffic.filter((m) => m.path === monC && m.kind === 'command' && m.command === 'query-rx-filter').length,
      0,
      'no query-rx-filter sent for an untrusted NIC',
    );
    assert.equal(JSON.stringify(floorFilters(BR)), snapshot, 'tc unchanged');
    assert.doesNotMatch(await c.dom.getXMLDesc(), /currentAddress/);

    await c.dom.destroy();
    assert.equal(floorFilters(BR).filters.some((f) => f.mac === MAC_C), false);
    // B's floor is the only one left.
    await domB.destroy();
    const end = floorFilters(BR);
    assert.deepEqual(end.filters, []);
    assert.deepEqual(
      htbClasses(BR).map((cl) => cl.id).sort(),
      ['1:1', '1:2'],
      'only the network\'s own classes are left',
    );
  });

  test('trust from the network: an interface without its own setting follows the network\'s yes; a portgroup\'s no wins over it', async (t) => {
    await conn.networkCreateXML(`<network trustGuestRxFilters='yes'>
  <name>qosnet3</name>
  <bridge name='qosbr3'/>
  <bandwidth><inbound average='1000' peak='5000'/></bandwidth>
  <portgroup name='strict' trustGuestRxFilters='no'/>
  <ip address='192.168.235.1' netmask='255.255.255.0'/>
</network>`);
    const nic = (mac: string, pg: string): string =>
      `<interface type='network'><mac address='${mac}'/><source network='qosnet3'${pg}/><model type='virtio'/><bandwidth><inbound floor='100'/></bandwidth></interface>`;
    const e = await boot('qosE', [nic('52:54:00:51:0e:01', ''), nic('52:54:00:51:0e:02', " portgroup='strict'")]);
    await guestReady(e.guest);
    const monE = monitorPath(root, 'qosE');
    const filters3 = (): [string, string][] => floorFilters('qosbr3').filters.map((f) => [f.handle, f.mac]);
    assert.deepEqual(filters3(), [
      ['800::803', '52:54:00:51:0e:01'],
      ['800::804', '52:54:00:51:0e:02'],
    ]);
    // eth0 (net0) is trusted through the network: followed.
    const t0 = Date.now();
    assert.equal((await e.guest.exec('ip link set eth0 address 52:54:00:00:00:e9')).status, 0);
    await until(() => floorFilters('qosbr3').filters.some((f) => f.handle === '800::803' && f.mac === '52:54:00:00:00:e9'), 'net0\'s filter to follow');
    t.diagnostic(`network-trusted NIC: filter followed ${Date.now() - t0} ms after the command was typed`);
    // eth1 (net1) is in the portgroup that says no: never asked about, filter unchanged.
    assert.equal((await e.guest.exec('ip link set eth1 address 52:54:00:00:00:ea')).status, 0);
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual(filters3(), [
      ['800::803', '52:54:00:00:00:e9'],
      ['800::804', '52:54:00:51:0e:02'],
    ]);
    const queried = traffic.flatMap((m) => (m.path === monE && m.kind === 'command' && m.command === 'query-rx-filter' ? [m.args?.name] : []));
    assert.ok(queried.includes('net0'));
    assert.equal(queried.includes('net1'), false, 'no query-rx-filter for the untrusted NIC');
    await e.dom.destroy();
    assert.deepEqual(filters3(), []);
  });

  test('netdev case 45: a trusted macvtap on a veth follows the guest\'s MAC and promiscuous mode (driver)', async (t) => {
    execFileSync('ip', ['link', 'add', 'qosveth0', 'type', 'veth', 'peer', 'name', 'qosveth1']);
    execFileSync('ip', ['link', 'set', 'qosveth0', 'up']);
    execFileSync('ip', ['link', 'set', 'qosveth1', 'up']);
    const d = await boot('qosD', [
      `<interface type='direct' trustGuestRxFilters='yes'><mac address='${MAC_D}'/><source dev='qosveth0' mode='bridge'/><model type='virtio'/></interface>`,
    ]);
    await guestReady(d.guest);
    const macvtap = /<target dev='(macvtap\d+)'\/>/.exec(await d.dom.getXMLDesc())?.[1];
    assert.ok(macvtap);
    assert.equal(linkInfo(macvtap).address, MAC_D);
    assert.equal(linkInfo(macvtap).flags.includes('PROMISC'), false);

    const t0 = Date.now();
    assert.equal((await d.guest.exec('ip link set eth0 address 52:54:00:00:00:d9')).status, 0);
    await until(() => linkInfo(macvtap).address === '52:54:00:00:00:d9', 'the macvtap to take the guest\'s MAC');
    t.diagnostic(`macvtap MAC followed ${Date.now() - t0} ms after the command was typed`);
    assert.equal((await d.guest.exec('ip link set eth0 promisc on')).status, 0);
    await until(() => linkInfo(macvtap).flags.includes('PROMISC'), 'the macvtap to turn promiscuous');
    assert.equal((await d.guest.exec('ip link set eth0 promisc off')).status, 0);
    await until(() => !linkInfo(macvtap).flags.includes('PROMISC'), 'the macvtap to leave promiscuous mode');
    await until(async () => (await d.dom.getXMLDesc()).includes(`<mac address='${MAC_D}' currentAddress='52:54:00:00:00:d9'/>`), 'currentAddress');
    await d.dom.destroy();
    assert.equal(spawnSync('ip', ['link', 'show', 'dev', macvtap]).status, 1, 'macvtap gone');
  });
});
