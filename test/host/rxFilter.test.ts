// NIC_RX_FILTER_CHANGED, host side (spec network-devices §3.5, cases 44–45): the trust decision,
// QEMU's query-rx-filter record (taken from a real QEMU), and a real macvtap on a veth in a
// test namespace following the guest's MAC, multicast list and receive modes.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { ErrorNumber } from '../../src/errors/index.js';
import {
  type GuestRxFilter,
  type HostRxFilter,
  netlinkRxFilterLinkOps,
  parseGuestRxFilter,
  planRxFilterChange,
  readMulticastTable,
  rxFilterSyncActions,
  syncMacvtapRxFilter,
} from '../../src/host/rxFilter.js';
import { enterTestNetns, type TestNetns } from '../helpers/netns.js';
import { hasCommand, skipUnless } from '../helpers/system.js';

function guest(over: Partial<GuestRxFilter> = {}): GuestRxFilter {
  return {
    name: 'net0',
    promiscuous: false,
    'broadcast-allowed': true,
    multicast: 'normal',
    'multicast-overflow': false,
    'multicast-table': [],
    unicast: 'normal',
    'unicast-overflow': false,
    'unicast-table': [],
    'main-mac': '52:54:00:12:34:56',
    vlan: 'normal',
    'vlan-table': [],
    ...over,
  };
}

test('netdev case 44: NIC_RX_FILTER_CHANGED without trustGuestRxFilters=yes → no query-rx-filter, no host change', () => {
  for (const trust of [undefined, false]) {
    for (const actualType of ['direct', 'network', 'bridge']) {
      assert.deepEqual(planRxFilterChange({ trustGuestRxFilters: trust, actualType, hasBandwidth: true, classId: 3 }), { query: false });
    }
  }
  assert.deepEqual(planRxFilterChange({ trustGuestRxFilters: true, actualType: 'direct' }), {
    query: true,
    syncMacvtap: true,
    updateFloorFilter: false,
  });
  assert.deepEqual(planRxFilterChange({ trustGuestRxFilters: true, actualType: 'network', hasBandwidth: true, classId: 3 }), {
    query: true,
    syncMacvtap: false,
    updateFloorFilter: true,
  });
  // Bandwidth without a floor has no class of its own on the bridge: no filter to move.
  assert.deepEqual(planRxFilterChange({ trustGuestRxFilters: true, actualType: 'network', hasBandwidth: true, classId: 0 }), {
    query: true,
    syncMacvtap: false,
    updateFloorFilter: false,
  });
  // A tap on a plain bridge: QEMU is asked (re-arming the event) but the host keeps its state.
  assert.deepEqual(planRxFilterChange({ trustGuestRxFilters: true, actualType: 'bridge', hasBandwidth: true }), {
    query: true,
    syncMacvtap: false,
    updateFloorFilter: false,
  });
});

test('query-rx-filter record of a real QEMU parses; malformed ones get libvirt\'s errors', { skip: hasCommand('qemu-system-x86_64') ? false : 'needs qemu-system-x86_64' }, () => {
  const qmp = ['{"execute":"qmp_capabilities"}', '{"execute":"query-rx-filter","arguments":{"name":"net0"}}', '{"execute":"quit"}', ''].join('\n');
  const res = spawnSync(
    'qemu-system-x86_64',
    ['-machine', 'q35,accel=tcg', '-nodefaults', '-display', 'none', '-S', '-qmp', 'stdio', '-netdev', 'hubport,id=n0,hubid=0', '-device', 'virtio-net-pci,netdev=n0,id=net0,mac=52:54:00:AB:cd:01'],
    { input: qmp, encoding: 'utf8', timeout: 60_000 },
  );
  const reply = res.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { return?: unknown })
    .find((m) => Array.isArray(m.return));
  assert.ok(reply, `no query-rx-filter reply in: ${res.stdout.slice(0, 300)} ${res.stderr}`);
  const f = parseGuestRxFilter((reply.return as unknown[])[0]);
  assert.equal(f.name, 'net0');
  assert.equal(f['main-mac'], '52:54:00:ab:cd:01');
  assert.equal(f.multicast, 'normal');
  assert.deepEqual(f['multicast-table'], []);
  // Before a guest driver programs the filter, QEMU reports every VLAN as allowed.
  assert.ok(f['vlan-table'].length > 0);

  const entry = (reply.return as Record<string, unknown>[])[0]!;
  const broken = (patch: Record<string, unknown>) => () => parseGuestRxFilter({ ...entry, ...patch });
  assert.throws(broken({ 'main-mac': 'xx' }), {
    code: ErrorNumber.INTERNAL_ERROR,
    domain: 10,
    message: "internal error: Missing or invalid 'main-mac' in query-rx-filter response",
  });
  assert.throws(broken({ multicast: 'some' }), { message: "internal error: Missing or invalid 'multicast' in query-rx-filter response" });
  assert.throws(broken({ 'multicast-table': ['01:00:5e:00:00:01', 7] }), {
    message: "internal error: Missing or invalid element 1 of 'multicast' list in query-rx-filter response",
  });
  assert.throws(broken({ 'unicast-table': ['nope'] }), {
    message: "internal error: Invalid mac address 'nope' in 'unicast-table' array in query-rx-filter response",
  });
  assert.throws(broken({ 'vlan-table': [1, -1] }), {
    message: "internal error: Missing or invalid element 1 of 'vlan-table' array in query-rx-filter response",
  });
  assert.throws(broken({ promiscuous: 'yes' }), { message: "internal error: Missing or invalid 'promiscuous' in query-rx-filter response" });
  assert.throws(() => parseGuestRxFilter(null), { code: ErrorNumber.INTERNAL_ERROR });
});

test('sync actions follow libvirt: MAC, multicast add/delete, promisc (forced on by VLANs), multicast mode', () => {
  const host: HostRxFilter = { mac: '9a:00:00:00:00:01', promiscuous: false, multicastMode: 'normal', multicastTable: ['01:00:5e:00:00:fb'] };
  assert.deepEqual(rxFilterSyncActions(host, guest({ 'multicast-table': ['01:00:5e:00:00:01'] })), [
    { kind: 'setMac', mac: '52:54:00:12:34:56' },
    { kind: 'addMulticast', mac: '01:00:5e:00:00:01' },
    { kind: 'delMulticast', mac: '01:00:5e:00:00:fb' },
  ]);
  const same: HostRxFilter = { mac: '52:54:00:12:34:56', promiscuous: false, multicastMode: 'normal', multicastTable: [] };
  assert.deepEqual(rxFilterSyncActions(same, guest()), []);
  assert.deepEqual(rxFilterSyncActions(same, guest({ 'vlan-table': [10], promiscuous: false })), [{ kind: 'setPromiscuous', on: true }]);
  assert.deepEqual(rxFilterSyncActions({ ...same, promiscuous: true }, guest({ 'vlan-table': [10] })), []);
  assert.deepEqual(rxFilterSyncActions({ ...same, promiscuous: true }, guest()), [{ kind: 'setPromiscuous', on: false }]);
  assert.deepEqual(rxFilterSyncActions(same, guest({ multicast: 'all' })), [{ kind: 'setAllMulti', on: true }]);
  assert.deepEqual(rxFilterSyncActions(same, guest({ 'multicast-overflow': true })), [
    { kind: 'setMulticast', on: true },
    { kind: 'setAllMulti', on: true },
  ]);
  assert.deepEqual(rxFilterSyncActions({ ...same, multicastMode: 'all' }, guest()), [
    { kind: 'setMulticast', on: true },
    { kind: 'setAllMulti', on: false },
  ]);
  assert.deepEqual(rxFilterSyncActions(same, guest({ multicast: 'none' })), [
    { kind: 'setAllMulti', on: false },
    { kind: 'setMulticast', on: false },
  ]);
});

describe('netdev case 45: a real macvtap follows the trusted guest', { skip: skipUnless({ root: true, commands: ['ip'] }) }, () => {
  let ns: TestNetns;
  const dev = 'macvtap0';
  before(() => {
    ns = enterTestNetns('hosttc-rx');
    execFileSync('ip', ['link', 'add', 'tsvlow0', 'type', 'veth', 'peer', 'name', 'tsvlow0p']);
    execFileSync('ip', ['link', 'set', 'tsvlow0', 'up']);
    execFileSync('ip', ['link', 'add', 'link', 'tsvlow0', 'name', dev, 'address', '9a:00:00:00:00:01', 'type', 'macvtap', 'mode', 'bridge']);
    execFileSync('ip', ['link', 'set', dev, 'up']);
  });
  after(() => ns?.leave());

  const linkLine = () => execFileSync('ip', ['-o', 'link', 'show', dev]).toString();
  const macOf = () => /link\/ether (\S+)/.exec(linkLine())![1];
  const flagsOf = () => /<([^>]*)>/.exec(linkLine())![1]!.split(',');

  test('guest main-mac changed (trust yes, direct) → macvtap MAC := new MAC; multicast list, promisc and allmulti synced', async () => {
    // A multicast address the guest is not (or no longer) listening to, added from user space.
    execFileSync('ip', ['maddress', 'add', '01:00:5e:00:00:fb', 'dev', dev]);
    assert.deepEqual(await readMulticastTable(dev), ['01:00:5e:00:00:fb']);

    const warnings: string[] = [];
    const g = guest({ 'main-mac': '52:54:00:ab:cd:ef', 'multicast-table': ['01:00:5e:00:00:01', '33:33:00:00:00:fb'] });
    const res = await syncMacvtapRxFilter(dev, g, { warn: (m) => warnings.push(m) });
    assert.deepEqual(res.before, { mac: '9a:00:00:00:00:01', promiscuous: false, multicastMode: 'normal', multicastTable: ['01:00:5e:00:00:fb'] });
    assert.deepEqual(res.failed, []);
    assert.deepEqual(warnings, []);
    assert.equal(macOf(), '52:54:00:ab:cd:ef');
    assert.deepEqual((await readMulticastTable(dev)).sort(), ['01:00:5e:00:00:01', '33:33:00:00:00:fb']);
    // The same sync again has nothing to do.
    assert.deepEqual((await syncMacvtapRxFilter(dev, g)).applied, []);

    // The guest starts filtering VLANs and wants all multicast: macvtap goes promisc + allmulti.
    await syncMacvtapRxFilter(dev, { ...g, 'vlan-table': [10, 20], multicast: 'all' });
    assert.ok(flagsOf().includes('PROMISC') && flagsOf().includes('ALLMULTI'), linkLine());
    // No multicast at all: ALLMULTI and MULTICAST off, promisc back to the guest's (off).
    await syncMacvtapRxFilter(dev, { ...g, multicast: 'none' });
    assert.ok(!flagsOf().some((f) => ['PROMISC', 'ALLMULTI', 'MULTICAST'].includes(f)), linkLine());
    const ops = netlinkRxFilterLinkOps();
    try {
      assert.deepEqual(await ops.getRxFilter(dev), {
        mac: '52:54:00:ab:cd:ef',
        promiscuous: false,
        multicastMode: 'none',
        multicastTable: ['01:00:5e:00:00:01', '33:33:00:00:00:fb'],
      });
    } finally {
      ops.close();
    }
  });

  test('each change the kernel refuses is only a warning; the others are still made', async () => {
    const warnings: string[] = [];
    // A multicast address cannot be a device's own MAC: the kernel refuses it (EADDRNOTAVAIL).
    const res = await syncMacvtapRxFilter(dev, guest({ 'main-mac': '53:54:00:00:00:01', multicast: 'all' }), { warn: (m) => warnings.push(m) });
    assert.deepEqual(res.failed.map((f) => f.action), [{ kind: 'setMac', mac: '53:54:00:00:00:01' }]);
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0]!,
      /^Couldn't set new MAC address 53:54:00:00:00:01 to device macvtap0 while responding to NIC_RX_FILTER_CHANGED: Cannot set interface MAC to 53:54:00:00:00:01 on 'macvtap0': Cannot assign requested address$/,
    );
    assert.ok(flagsOf().includes('ALLMULTI'), 'the multicast mode was still synced');
    assert.equal(macOf(), '52:54:00:ab:cd:ef');
  });

  test('a device that does not exist: reading the host filter fails the sync (system error)', async () => {
    await assert.rejects(syncMacvtapRxFilter('tsvnosuch0', guest()), (err: Error & { code?: number; int1?: number }) => {
      assert.equal(err.code, ErrorNumber.SYSTEM_ERROR);
      assert.equal(err.int1, 19); // ENODEV
      return true;
    });
  });
});
