// Ports of a network with QoS on its bridge, with the real tc: floor admission, the class ids in
// the status file, plug/unplug on the bridge, the MAC-follow filter update, live floor changes,
// portgroup settings merged into the port, and the port files a restarted daemon reads.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EventBroker } from '../../../src/drivers/events.js';
import type { NetworkRef } from '../../../src/drivers/driver.js';
import { NetworkDriver } from '../../../src/drivers/network/networkDriver.js';
import type { NetworkDriverState } from '../../../src/drivers/network/networkDriverState.js';
import { formatNetworkPortXML, parseNetworkPortXML, portActualNetDef, type NetworkPort } from '../../../src/drivers/network/networkPort.js';
import { skipUnless } from '../../helpers/system.js';
import { type Fixture, setUp, tcShow } from './networkFixture.js';

const skip = skipUnless({ root: true, commands: ['ip', 'nft', 'tc', 'dnsmasq'] });

const DOM = { domainName: 'guest1', domainUUID: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee' };
const floor = (f: number) => ({ inbound: { floor: BigInt(f) } });

const QOS_XML = `<network trustGuestRxFilters='no'>
  <name>tsvqos</name>
  <forward mode='nat'/>
  <bridge name='tsvbr-qos'/>
  <bandwidth><inbound average='1000' peak='5000' burst='5120'/></bandwidth>
  <portgroup name='gold' trustGuestRxFilters='yes'>
    <bandwidth><inbound average='2000'/></bandwidth>
  </portgroup>
  <ip address='192.168.81.1' prefix='24'/>
</network>`;

function statusFile(fx: Fixture, name: string): string {
  return readFileSync(join(fx.runDir, `network/${name}.xml`), 'utf8');
}

describe('network ports with floors on the bridge', { skip }, () => {
  let fx: Fixture;
  let state: NetworkDriverState;
  let drv: NetworkDriver;
  let net: NetworkRef;
  const br = 'tsvbr-qos';

  before(async () => {
    fx = await setUp('ports');
    state = await fx.newState();
    drv = new NetworkDriver(state, new EventBroker());
    net = await drv.networkCreateXML(QOS_XML, 0);
  });
  after(async () => {
    if (net) await drv.networkDestroy(net).catch(() => undefined);
    drv?.close();
    fx?.cleanup();
  });

  let a: NetworkPort;
  let b: NetworkPort;

  test('a port with a floor gets class 1:3, libvirt\'s tc commands, and the status records it', async () => {
    fx.tc.calls.length = 0;
    a = await state.allocatePort('tsvqos', { ...DOM, mac: '52:54:00:12:34:56', bandwidth: floor(200) });
    assert.equal(a.classID, 3);
    assert.deepEqual(a.plug, { type: 'network', bridge: br });
    assert.equal(a.network, 'tsvqos');
    assert.equal(a.trustGuestRxFilters, false, "the network's trustGuestRxFilters='no'");
    const tc = fx.tc.lines();
    assert.equal(tc[0], `class add dev ${br} parent 1:1 classid 1:3 htb rate 200kbps ceil 5000kbps quantum 1`);
    assert.equal(
      tc.find((l) => l.startsWith('filter add')),
      `filter add dev ${br} protocol ip prio 2 handle 800::803 u32 match u16 0x0800 0xffff at -2 match u32 0x00123456 0xffffffff at -12 match u16 0x5254 0xffff at -14 flowid 1:3`,
    );
    assert.equal(tc.at(-1), `class change dev ${br} classid 1:2 htb rate 4800kbps ceil 5000kbps quantum 85`);
    assert.match(tcShow(br, 'class'), /class htb 1:3 parent 1:1 .*rate 1600Kbit ceil 40Mbit/);
    assert.match(tcShow(br, 'class'), /class htb 1:2 parent 1:1 .*rate 38400Kbit ceil 40Mbit/);
    assert.match(statusFile(fx, 'tsvqos'), /<class_id bitmap='0-3'\/>\n {2}<floor sum='200'\/>/);
    assert.match(statusFile(fx, 'tsvqos'), /<network connections='1'/);
    const file = readFileSync(join(fx.runDir, `network/tsvqos/ports/${a.uuid}.xml`), 'utf8');
    assert.ok(file.endsWith(formatNetworkPortXML(a)));
    assert.match(await drv.networkGetXMLDesc(net, 0), /<network connections='1'/);
  });

  test('admission: a floor that would overcommit the peak is refused before any tc', async () => {
    b = await state.allocatePort('tsvqos', { ...DOM, mac: '52:54:00:00:00:0b', bandwidth: floor(300) });
    assert.equal(b.classID, 4);
    fx.tc.calls.length = 0;
    await assert.rejects(state.allocatePort('tsvqos', { ...DOM, mac: '52:54:00:00:00:0c', bandwidth: floor(4600) }), {
      code: 55,
      domain: 19,
      message:
        "Requested operation is not valid: Cannot plug '52:54:00:00:00:0c' interface into 'tsvbr-qos' because new combined inbound floor=5100 would overcommit peak=5000 on network 'tsvqos'",
    });
    assert.deepEqual(fx.tc.calls, []);
    assert.equal(state.listPorts('tsvqos').length, 2);
    assert.match(statusFile(fx, 'tsvqos'), /<class_id bitmap='0-4'\/>\n {2}<floor sum='500'\/>/);
  });

  test('the guest changes its MAC: only its filter is replaced', async () => {
    fx.tc.calls.length = 0;
    assert.equal(await state.updatePortMac('tsvqos', b.uuid, '52:54:00:ab:cd:ef'), true);
    assert.deepEqual(fx.tc.lines(), [
      `filter del dev ${br} prio 2 handle 800::804 u32`,
      `filter add dev ${br} protocol ip prio 2 handle 800::804 u32 match u16 0x0800 0xffff at -2 match u32 0x00abcdef 0xffffffff at -12 match u16 0x5254 0xffff at -14 flowid 1:4`,
    ]);
    const filters = tcShow(br, 'filter');
    assert.match(filters, /fh 800::804 [^\n]*\n[^\n]*\n\s+match 00abcdef\/ffffffff at -12/);
    assert.match(filters, /fh 800::803 [^\n]*\n[^\n]*\n\s+match 00123456\/ffffffff at -12/, "the other port's filter stays");
    // A port without a floor has no filter to move.
    const plain = await state.allocatePort('tsvqos', { ...DOM, mac: '52:54:00:00:00:0d' });
    assert.equal(await state.updatePortMac('tsvqos', plain.uuid, '52:54:00:00:00:0e'), false);
    await state.releasePort('tsvqos', plain.uuid);
  });

  test('live floor changes: change, unplug, plug again', async () => {
    b = await state.updatePortBandwidth('tsvqos', b.uuid, floor(1000));
    assert.equal(b.classID, 4);
    assert.match(tcShow(br, 'class'), /class htb 1:4 parent 1:1 .*rate 8Mbit/);
    assert.match(statusFile(fx, 'tsvqos'), /<floor sum='1200'\/>/);
    b = await state.updatePortBandwidth('tsvqos', b.uuid, undefined);
    assert.equal(b.classID, undefined);
    assert.doesNotMatch(tcShow(br, 'class'), /1:4 /);
    assert.match(statusFile(fx, 'tsvqos'), /<class_id bitmap='0-3'\/>\n {2}<floor sum='200'\/>/);
    await assert.rejects(state.updatePortBandwidth('tsvqos', b.uuid, floor(4900)), { code: 55 });
    b = await state.updatePortBandwidth('tsvqos', b.uuid, floor(100));
    assert.equal(b.classID, 4);
  });

  test('release: the class and filter go, the id is free again', async () => {
    await state.releasePort('tsvqos', a.uuid);
    assert.doesNotMatch(tcShow(br, 'class'), /1:3 /);
    assert.doesNotMatch(tcShow(br, 'filter'), /800::803/);
    assert.match(statusFile(fx, 'tsvqos'), /<class_id bitmap='0-2,4'\/>\n {2}<floor sum='100'\/>/);
    assert.ok(!existsSync(join(fx.runDir, `network/tsvqos/ports/${a.uuid}.xml`)));
    const again = await state.allocatePort('tsvqos', { ...DOM, mac: '52:54:00:12:34:56', bandwidth: floor(10) });
    assert.equal(again.classID, 3);
    await state.releasePort('tsvqos', again.uuid);
    await state.releasePort('tsvqos', b.uuid);
    assert.match(statusFile(fx, 'tsvqos'), /<class_id bitmap='0-2'\/>\n {2}<floor sum='0'\/>/);
    // As in libvirt: once floors came and went, 1:2 gets the whole limit (peak − Σfloor).
    assert.match(tcShow(br, 'class'), /class htb 1:2 parent 1:1 .*rate 40Mbit ceil 40Mbit/);
  });

  test('a portgroup supplies bandwidth and trust; the interface\'s own settings win', async () => {
    const p = await state.allocatePort('tsvqos', { ...DOM, mac: '52:54:00:00:00:21', portgroup: 'gold' });
    assert.equal(p.portgroup, 'gold');
    assert.deepEqual(p.bandwidth, { inbound: { average: 2000n } });
    assert.equal(p.trustGuestRxFilters, true);
    assert.equal(p.classID, undefined);
    const q = await state.allocatePort('tsvqos', { ...DOM, mac: '52:54:00:00:00:22', portgroup: 'gold', trustGuestRxFilters: false, bandwidth: floor(50) });
    assert.equal(q.trustGuestRxFilters, false);
    assert.deepEqual(q.bandwidth, floor(50));
    assert.equal(q.classID, 3);
    assert.deepEqual(portActualNetDef(q), {
      type: 'network',
      source: { bridge: br },
      trustGuestRxFilters: false,
      classId: 3,
      bandwidth: floor(50),
    });
    await state.releasePort('tsvqos', p.uuid);
    await state.releasePort('tsvqos', q.uuid);
  });

  test('port errors', async () => {
    await assert.rejects(state.allocatePort('nosuch', { ...DOM, mac: '52:54:00:00:00:01' }), { code: 43, message: "Network not found: no network with matching name 'nosuch'" });
    await assert.rejects(state.allocatePort('tsvqos', { ...DOM, mac: 'zz' }), { code: 44, domain: 19, message: 'invalid MAC address: zz' });
    const U = '12345678-1234-1234-1234-123456789abc';
    await assert.rejects(state.releasePort('tsvqos', U), { code: 107, domain: 19, message: `network port not found: Network port with UUID ${U} does not exist` });
    const p = await state.allocatePort('tsvqos', { ...DOM, uuid: U, mac: '52:54:00:00:00:31' });
    await assert.rejects(state.allocatePort('tsvqos', { ...DOM, uuid: U, mac: '52:54:00:00:00:32' }), {
      code: 106,
      // libvirt's template for NETWORK_PORT_EXIST wraps its detail sentence the same way.
      message: `network port Network port with UUID ${U} already exists exists already`,
    });
    await state.releasePort('tsvqos', p.uuid);
    await assert.rejects(
      state.allocatePort('tsvqos', { ...DOM, mac: '52:54:00:00:00:33', virtualport: { type: 'openvswitch', parameters: {} } }),
      { code: 67, message: "unsupported configuration: <virtualport type='openvswitch'> not supported for network 'tsvqos' which uses IP forwarding" },
    );
    const noQos = await drv.networkCreateXML(`<network><name>tsvnoqos</name><bridge name='tsvbr-nq'/></network>`, 0);
    await assert.rejects(state.allocatePort('tsvnoqos', { ...DOM, mac: '52:54:00:00:00:34', bandwidth: floor(10) }), {
      code: 84,
      domain: 19,
      message: "Operation not supported: Invalid use of 'floor' on interface with MAC address 52:54:00:00:00:34 - network 'tsvnoqos' has no inbound QoS set",
    });
    await drv.networkDestroy(noQos);
    const inactive = await drv.networkDefineXML(`<network><name>tsvoff</name><bridge name='tsvbr-off'/></network>`, 0);
    await assert.rejects(state.allocatePort('tsvoff', { ...DOM, mac: '52:54:00:00:00:35' }), { code: 55, message: "Requested operation is not valid: network 'tsvoff' is not active" });
    await drv.networkUndefine(inactive);
  });

  test('floor on a bridge-mode network is refused', async () => {
    const { execFileSync } = await import('node:child_process');
    execFileSync('ip', ['link', 'add', 'tsvhbr', 'type', 'bridge']);
    try {
      const n = await drv.networkCreateXML(`<network><name>tsvfb</name><forward mode='bridge'/><bridge name='tsvhbr'/></network>`, 0);
      const p = await state.allocatePort('tsvfb', { ...DOM, mac: '52:54:00:00:00:41' });
      assert.deepEqual(p.plug, { type: 'bridge', bridge: 'tsvhbr' });
      await assert.rejects(state.allocatePort('tsvfb', { ...DOM, mac: '52:54:00:00:00:42', bandwidth: floor(1) }), {
        code: 84,
        message:
          "Operation not supported: Invalid use of 'floor' on interface with MAC address 52:54:00:00:00:42 - 'floor' is only supported for interface type 'network' with forward type 'nat', 'route', 'open' or none",
      });
      await drv.networkDestroy(n);
    } finally {
      execFileSync('ip', ['link', 'del', 'tsvhbr']);
    }
  });
});

test('port XML: libvirt\'s <networkport>, read back unchanged', () => {
  const port: NetworkPort = {
    uuid: '5d4b0a3c-1111-2222-3333-444455556666',
    network: 'n',
    networkUUID: '6a1c0a3e-5f7e-4f5b-9d0e-3c2b1a0f9e01',
    domainName: 'guest1',
    domainUUID: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
    portgroup: 'gold',
    mac: '52:54:00:12:34:56',
    bandwidth: { inbound: { average: 1000n, floor: 200n } },
    classID: 3,
    vlan: { trunk: false, tag: [{ id: 42 }] },
    trustGuestRxFilters: true,
    plug: { type: 'network', bridge: 'virbr0', macTableManager: 'libvirt' },
  };
  const xml = formatNetworkPortXML(port);
  assert.equal(
    xml,
    `<networkport>
  <uuid>5d4b0a3c-1111-2222-3333-444455556666</uuid>
  <owner>
    <name>guest1</name>
    <uuid>aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee</uuid>
  </owner>
  <group>gold</group>
  <mac address='52:54:00:12:34:56'/>
  <bandwidth classID='3'>
    <inbound average='1000' floor='200'/>
  </bandwidth>
  <vlan>
    <tag id='42'/>
  </vlan>
  <rxfilters trustGuest='yes'/>
  <plug type='network' bridge='virbr0' macTableManager='libvirt'/>
</networkport>
`,
  );
  assert.deepEqual(parseNetworkPortXML(xml, 'n', port.networkUUID), port);
  const hostdev: NetworkPort = {
    ...port,
    bandwidth: undefined,
    classID: undefined,
    plug: { type: 'hostdev-pci', address: { domain: 0, bus: 3, slot: 16, function: 2 }, driver: 'vfio', managed: true },
  };
  delete hostdev.bandwidth;
  delete hostdev.classID;
  const hx = formatNetworkPortXML(hostdev);
  assert.match(hx, /<plug type='hostdev-pci' managed='yes'>\n {4}<driver name='vfio'\/>\n {4}<address type='pci' domain='0x0000' bus='0x03' slot='0x10' function='0x2'\/>\n {2}<\/plug>/);
  assert.deepEqual(parseNetworkPortXML(hx, 'n', port.networkUUID), hostdev);
  assert.throws(() => parseNetworkPortXML('<networkport><uuid>x</uuid></networkport>', 'n', port.networkUUID), {
    code: 1,
    message: "internal error: Unable to parse UUID 'x'",
  });
  assert.throws(() => parseNetworkPortXML(xml.replace(/<plug[^>]*>/, "<plug type='direct'/>"), 'n', port.networkUUID), {
    code: 27,
    message: 'XML error: Missing network port link device name',
  });
});
