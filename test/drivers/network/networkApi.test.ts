// The Driver's network methods: libvirt's lookups, list flags, definition clashes, live versus
// persistent definitions, autostart, events, files, and every error with libvirt 9.0's code,
// domain and message (as virsh and python-libvirt showed them against a real libvirtd).
import assert from 'node:assert/strict';
import { existsSync, lstatSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EventBroker } from '../../../src/drivers/events.js';
import type { NetworkEvent } from '../../../src/drivers/driver.js';
import { NetworkDriver } from '../../../src/drivers/network/networkDriver.js';
import type { NetworkDriverState } from '../../../src/drivers/network/networkDriverState.js';
import { skipUnless } from '../../helpers/system.js';
import { type Fixture, linkNames, setUp } from './networkFixture.js';

const skip = skipUnless({ root: true, commands: ['ip', 'nft', 'dnsmasq'] });
const U1 = '11111111-2222-3333-4444-555555555555';
const tick = () => new Promise((r) => setImmediate(r));

const isolated = (name: string, bridge: string, extra = '') => `<network><name>${name}</name>${extra}<bridge name='${bridge}'/></network>`;

describe('network API', { skip }, () => {
  let fx: Fixture;
  let state: NetworkDriverState;
  let drv: NetworkDriver;

  before(async () => {
    fx = await setUp('api');
    state = await fx.newState();
    drv = new NetworkDriver(state, new EventBroker());
  });
  after(async () => {
    for (const ref of await drv.listAllNetworks(2)) await drv.networkDestroy(ref).catch(() => undefined);
    drv?.close();
    fx?.cleanup();
  });

  test('lookups of missing networks', async () => {
    await assert.rejects(drv.networkLookupByName('nosuch'), { code: 43, domain: 19, message: "Network not found: no network with matching name 'nosuch'" });
    await assert.rejects(drv.networkLookupByUUID(U1), { code: 43, domain: 19, message: `Network not found: no network with matching uuid '${U1}'` });
    // A handle whose network has gone.
    await assert.rejects(drv.networkIsActive({ name: 'gone', uuid: U1 }), {
      code: 43,
      message: `Network not found: no network with matching uuid '${U1}' (gone)`,
    });
  });

  test('define: generated bridge name and MAC, saved config, clashes', async () => {
    const ref = await drv.networkDefineXML(`<network><name>tsvdef</name><uuid>${U1}</uuid></network>`, 0);
    const xml = await drv.networkGetXMLDesc(ref, 0);
    assert.match(xml, /<bridge name='virbr0' stp='on' delay='0'\/>\n {2}<mac address='52:54:00:[0-9a-f:]{8}'\/>/);
    const file = readFileSync(join(fx.configDir, 'qemu/networks/tsvdef.xml'), 'utf8');
    assert.ok(file.startsWith('<!--\n'));
    assert.ok(file.endsWith(xml), 'config = comment + inactive XML');
    assert.equal(await drv.networkIsPersistent(ref), true);

    await assert.rejects(drv.networkDefineXML(`<network><name>tsvother</name><uuid>${U1}</uuid></network>`, 0), {
      code: 9,
      domain: 19,
      message: `operation failed: network 'tsvdef' is already defined with uuid ${U1}`,
    });
    await assert.rejects(drv.networkDefineXML(`<network><name>tsvdef</name></network>`, 0), {
      code: 9,
      message: `operation failed: network 'tsvdef' already exists with uuid ${U1}`,
    });
    await assert.rejects(drv.networkDefineXML(isolated('tsvdef2', 'virbr0'), 0), {
      code: 1,
      domain: 19,
      message: "internal error: bridge name 'virbr0' already in use.",
    });
    // An existing host link is skipped when a name is generated.
    const { execFileSync } = await import('node:child_process');
    execFileSync('ip', ['link', 'add', 'virbr1', 'type', 'bridge']);
    try {
      const r2 = await drv.networkDefineXML(`<network><name>tsvdef3</name></network>`, 0);
      assert.match(await drv.networkGetXMLDesc(r2, 0), /<bridge name='virbr2'/);
      await drv.networkUndefine(r2);
    } finally {
      execFileSync('ip', ['link', 'del', 'virbr1']);
    }
    await drv.networkUndefine(ref);
    assert.ok(!existsSync(join(fx.configDir, 'qemu/networks/tsvdef.xml')));
  });

  test('flags and XML errors', async () => {
    await assert.rejects(drv.networkDefineXML(isolated('x', 'b'), 4), {
      code: 8,
      domain: 19,
      message: 'unsupported flags (0x4) in function networkDefineXMLFlags',
    });
    await assert.rejects(drv.networkCreateXML(isolated('x', 'b'), 2), { code: 8, message: 'unsupported flags (0x2) in function networkCreateXMLFlags' });
    await assert.rejects(drv.listAllNetworks(1 << 10), { code: 8, message: 'unsupported flags (0x400) in function networkConnectListAllNetworks' });
    await assert.rejects(drv.networkCreateXML(`<network><name>x</name><forward mode="foo"/></network>`, 0), {
      code: 67,
      domain: 19,
      message: "unsupported configuration: unknown forwarding type 'foo'",
    });
    await assert.rejects(drv.networkDefineXML('<network><name>x</name><bogus/></network>', 1), (e: Error & { code?: number }) => e.code !== undefined);
    // libvirt's virCheckNonNegativeArg text, without the "invalid argument: " prefix.
    await assert.rejects(drv.listNetworks(-1), { code: 8, domain: 19, message: 'maxnames in virConnectListNetworks must be zero or greater' });
    await assert.rejects(drv.listDefinedNetworks(-1), { code: 8, domain: 19, message: 'maxnames in virConnectListDefinedNetworks must be zero or greater' });
  });

  test('start, stop, undefine, autostart: state errors', async () => {
    const ref = await drv.networkDefineXML(isolated('tsvst', 'tsvbr-st'), 0);
    await assert.rejects(drv.networkDestroy(ref), { code: 55, domain: 19, message: "Requested operation is not valid: network 'tsvst' is not active" });
    await drv.networkCreate(ref);
    await assert.rejects(drv.networkCreate(ref), { code: 55, domain: 19, message: 'Requested operation is not valid: network is already active' });
    const tr = await drv.networkCreateXML(isolated('tsvtr', 'tsvbr-tr'), 0);
    await assert.rejects(drv.networkUndefine(tr), { code: 55, message: "Requested operation is not valid: can't undefine transient network" });
    await assert.rejects(drv.networkSetAutostart(tr, true), { code: 55, message: 'Requested operation is not valid: cannot set autostart for transient network' });
    await assert.rejects(drv.networkGetBridgeName(await drv.networkDefineXML(`<network><name>tsvhd</name><forward mode='passthrough'><interface dev='eth7'/></forward></network>`, 0)), {
      code: 1,
      message: "internal error: network 'tsvhd' does not have a bridge name.",
    });
    // createXML of a running network's UUID
    const uuid = ref.uuid;
    await assert.rejects(drv.networkCreateXML(`<network><name>tsvst</name><uuid>${uuid}</uuid><bridge name='tsvbr-st'/></network>`, 0), {
      code: 55,
      message: "Requested operation is not valid: network is already active as 'tsvst'",
    });
    await drv.networkDestroy(tr);
    await drv.networkDestroy(ref);
    await drv.networkUndefine(ref);
    await drv.networkUndefine(await drv.networkLookupByName('tsvhd'));
  });

  test('list flags, counts and names', async () => {
    const a = await drv.networkDefineXML(isolated('tsvl-a', 'tsvbr-la'), 0); // inactive persistent
    const b = await drv.networkDefineXML(isolated('tsvl-b', 'tsvbr-lb'), 0); // active persistent autostart
    await drv.networkSetAutostart(b, true);
    await drv.networkCreate(b);
    const c = await drv.networkCreateXML(isolated('tsvl-c', 'tsvbr-lc'), 0); // active transient
    const names = async (f: number) => (await drv.listAllNetworks(f)).map((r) => r.name);
    assert.deepEqual(await names(0), ['tsvl-a', 'tsvl-b', 'tsvl-c']);
    assert.deepEqual(await names(1), ['tsvl-a']);
    assert.deepEqual(await names(2), ['tsvl-b', 'tsvl-c']);
    assert.deepEqual(await names(4), ['tsvl-a', 'tsvl-b']);
    assert.deepEqual(await names(8), ['tsvl-c']);
    assert.deepEqual(await names(16), ['tsvl-b']);
    assert.deepEqual(await names(32), ['tsvl-a', 'tsvl-c']);
    assert.deepEqual(await names(2 | 4), ['tsvl-b']);
    assert.deepEqual(await names(1 | 2), ['tsvl-a', 'tsvl-b', 'tsvl-c']);
    assert.equal(await drv.numOfNetworks(), 2);
    assert.equal(await drv.numOfDefinedNetworks(), 1);
    assert.deepEqual(await drv.listNetworks(1), ['tsvl-b']);
    assert.deepEqual(await drv.listDefinedNetworks(10), ['tsvl-a']);
    assert.equal(await drv.networkGetAutostart(b), true);
    const link = join(fx.configDir, 'qemu/networks/autostart/tsvl-b.xml');
    assert.ok(lstatSync(link).isSymbolicLink());
    assert.equal(readlinkSync(link), join(fx.configDir, 'qemu/networks/tsvl-b.xml'));
    await drv.networkSetAutostart(b, false);
    assert.ok(!existsSync(link));
    await drv.networkDestroy(b);
    await drv.networkDestroy(c);
    await drv.networkUndefine(a);
    await drv.networkUndefine(b);
  });

  test('a definition changed while running applies after the stop; undefine of a running network makes it transient', async () => {
    const ref = await drv.networkDefineXML(isolated('tsvlive', 'tsvbr-live', `<uuid>${U1}</uuid>`), 0);
    await drv.networkCreate(ref);
    await drv.networkDefineXML(`<network><name>tsvlive</name><uuid>${U1}</uuid><bridge name='tsvbr-live'/><mtu size='1300'/></network>`, 0);
    assert.doesNotMatch(await drv.networkGetXMLDesc(ref, 0), /mtu/);
    assert.match(await drv.networkGetXMLDesc(ref, 1), /<mtu size='1300'\/>/);
    await drv.networkDestroy(ref);
    assert.match(await drv.networkGetXMLDesc(ref, 0), /<mtu size='1300'\/>/);
    await drv.networkCreate(ref);
    await drv.networkUndefine(ref);
    assert.equal(await drv.networkIsPersistent(ref), false);
    assert.equal(await drv.networkIsActive(ref), true);
    await drv.networkDestroy(ref);
    await assert.rejects(drv.networkLookupByUUID(U1), { code: 43 });
  });

  test('createXML of a defined, inactive network runs the new definition and keeps the old', async () => {
    const ref = await drv.networkDefineXML(isolated('tsvcx', 'tsvbr-cx', `<uuid>${U1}</uuid>`), 0);
    await drv.networkCreateXML(`<network><name>tsvcx</name><uuid>${U1}</uuid><bridge name='tsvbr-cx'/><mtu size='1280'/></network>`, 0);
    assert.equal(await drv.networkIsPersistent(ref), true);
    assert.match(await drv.networkGetXMLDesc(ref, 0), /mtu size='1280'/);
    assert.doesNotMatch(await drv.networkGetXMLDesc(ref, 1), /mtu/);
    await drv.networkDestroy(ref);
    assert.doesNotMatch(await drv.networkGetXMLDesc(ref, 0), /mtu/);
    await drv.networkUndefine(ref);
  });

  test('events: per network, every connection, deregistration', async () => {
    const other = new NetworkDriver(state, new EventBroker());
    const all: NetworkEvent[] = [];
    const one: NetworkEvent[] = [];
    const mine: NetworkEvent[] = [];
    await other.networkEventRegisterAny(null, 0, (e) => all.push(e));
    const ref = await drv.networkDefineXML(isolated('tsvev', 'tsvbr-ev', `<uuid>${U1}</uuid>`), 0);
    const id = await other.networkEventRegisterAny(ref, 0, (e) => one.push(e));
    const mineId = await drv.networkEventRegisterAny(ref, 0, (e) => mine.push(e));
    await drv.networkDefineXML(isolated('tsvev2', 'tsvbr-ev2'), 0);
    await drv.networkCreate(ref);
    await tick();
    await other.networkEventDeregisterAny(id);
    await drv.networkDestroy(ref);
    await drv.networkUndefine(ref);
    await drv.networkUndefine(await drv.networkLookupByName('tsvev2'));
    await tick();
    assert.deepEqual(all.map((e) => `${e.net.name}:${e.event}`), ['tsvev:0', 'tsvev2:0', 'tsvev:2', 'tsvev:3', 'tsvev:1', 'tsvev2:1']);
    assert.deepEqual(one.map((e) => e.event), [2]);
    assert.deepEqual(mine.map((e) => e.event), [2, 3, 1]);
    await drv.networkEventDeregisterAny(mineId);
    await assert.rejects(other.networkEventDeregisterAny(id), { code: 8, message: `invalid argument: could not find event callback ${id} for deletion` });
    await assert.rejects(other.networkEventRegisterAny(null, 1, () => undefined), { code: 8, message: 'invalid argument: unsupported event ID 1' });
    other.close();
  });

  test('status file: libvirt\'s <networkstatus> with class ids and floor sum', async () => {
    const ref = await drv.networkCreateXML(`<network><name>tsvstat</name><uuid>${U1}</uuid><bridge name='tsvbr-stat'/><mac address='52:54:00:01:02:03'/></network>`, 0);
    const text = readFileSync(join(fx.runDir, 'network/tsvstat.xml'), 'utf8');
    assert.equal(
      text.replace(/^<!--[\s\S]*?-->\n\n/, ''),
      `<networkstatus>
  <class_id bitmap='0-2'/>
  <floor sum='0'/>
  <network>
    <name>tsvstat</name>
    <uuid>${U1}</uuid>
    <bridge name='tsvbr-stat' stp='on' delay='0'/>
    <mac address='52:54:00:01:02:03'/>
  </network>
</networkstatus>`,
    );
    await drv.networkDestroy(ref);
    assert.ok(!linkNames().includes('tsvbr-stat'));
  });

  test('autostart runs once per boot when the state is opened', async () => {
    const ref = await drv.networkDefineXML(isolated('tsvauto', 'tsvbr-auto'), 0);
    await drv.networkSetAutostart(ref, true);
    const marker = join(fx.runDir, 'network/autostarted');
    assert.ok(existsSync(marker), 'the first state has autostarted already');
    const s2 = await fx.newState();
    assert.equal(s2.isActive(ref), false, 'marker present: nothing started');
    rmSync(marker);
    const s3 = await fx.newState();
    assert.equal(s3.isActive(ref), true, 'after a boot (no marker): started');
    assert.ok(linkNames().includes('tsvbr-auto'));
    await new NetworkDriver(s3).networkDestroy(ref);
    await drv.networkUndefine(ref);
  });
});
