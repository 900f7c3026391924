// tsvirt's remote driver against a real libvirtd 9.0 (a private session daemon as the test
// user), driving its test:///default driver: every call of spec §3/§4, errors, lifecycle
// events, keepalive, read-only, close callbacks and reconnecting.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ErrorNumber, VirtError } from '../../src/errors/index.js';
import type { DomainEvent } from '../../src/drivers/driver.js';
import { RemoteDriver } from '../../src/remote/remoteDriver.js';
import { libvirtdSkipReason, startLibvirtd, type PrivateLibvirtd } from '../helpers/libvirtd.js';

const skip = libvirtdSkipReason();

const domXml = (name: string) => `<domain type='test'>
  <name>${name}</name>
  <memory unit='KiB'>65536</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
</domain>`;

function waitFor<T>(arr: T[], n: number, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const check = () => {
      if (arr.length >= n) resolve();
      else if (Date.now() > end) reject(new Error(`timed out waiting for ${n} items, have ${JSON.stringify(arr)}`));
      else setTimeout(check, 20);
    };
    check();
  });
}

describe('remote driver against a real libvirtd', { skip }, () => {
  let lvd: PrivateLibvirtd;
  let conn: RemoteDriver;

  before(async () => {
    lvd = await startLibvirtd({ tag: 'rpc' });
    conn = await RemoteDriver.open(lvd.uri('test', '/default'));
  });
  after(async () => {
    await conn?.close();
    await lvd?.stop();
  });

  test('connection calls: type, versions, hostname, URI, capabilities, node info', async () => {
    assert.equal(await conn.getType(), 'TEST');
    assert.equal(await conn.getVersion(), 2);
    assert.equal(await conn.getLibVersion(), 9000000);
    assert.ok((await conn.getHostname()).length > 0);
    assert.equal(await conn.getURI(), lvd.uri('test', '/default'));
    assert.equal(await conn.getServerURI(), 'test:///default');
    assert.match(await conn.getCapabilities(), /<capabilities>/);
    const ni = await conn.nodeGetInfo();
    assert.equal(ni.model, 'i686');
    assert.equal(ni.cpus, 16);
    assert.deepEqual(await conn.nodeGetSecurityModel(), { model: 'testSecurity', doi: '' });
    assert.equal(await conn.supportsFeature(14), true);
    assert.equal(await conn.isSecure(), true);
    assert.equal(await conn.isEncrypted(), false);
    assert.equal(await conn.isAlive(), true);
    assert.equal(await conn.getMaxVcpus(null), 32);
  });

  test('domain queries on the test domain (dominfo, domstate, dumpxml)', async () => {
    const all = await conn.listAllDomains(3);
    const t = all.find((d) => d.name === 'test');
    assert.ok(t, 'test domain listed');
    assert.match(t.uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const dom = await conn.domainLookupByName('test');
    assert.deepEqual(dom, t);
    assert.deepEqual(await conn.domainLookupByUUID(dom.uuid), dom);
    assert.deepEqual(await conn.domainLookupByID(dom.id), dom);
    assert.equal(await conn.domainGetOSType(dom), 'linux');
    const info = await conn.domainGetInfo(dom);
    assert.equal(info.state, 1);
    assert.equal(info.nrVirtCpu, 2);
    assert.equal(typeof info.cpuTime, 'bigint');
    assert.deepEqual(await conn.domainGetState(dom, 0), { state: 1, reason: 0 });
    assert.equal(await conn.domainIsActive(dom), true);
    assert.equal(await conn.domainIsPersistent(dom), true);
    assert.equal(await conn.domainGetAutostart(dom), false);
    assert.equal(await conn.domainHasManagedSaveImage(dom, 0), false);
    assert.equal(await conn.domainSnapshotNum(dom, 0), 0);
    assert.deepEqual(await conn.domainGetSecurityLabel(dom), { label: 'libvirt-test', enforcing: true });
    assert.deepEqual(await conn.domainGetMessages(dom, 0), []);
    assert.match(await conn.domainGetXMLDesc(dom, 0), /<name>test<\/name>/);
    assert.equal(await conn.domainGetMaxMemory(dom), 8388608);
    assert.equal(await conn.domainGetVcpusFlags(dom, 0), 2);
    assert.equal(await conn.numOfDomains(), (await conn.listDomains(100)).length);
  });

  test('errors come back with libvirt code, domain and text', async () => {
    await assert.rejects(conn.domainLookupByName('rpc-nosuch'), (e: unknown) => {
      assert.ok(e instanceof VirtError);
      assert.equal(e.code, ErrorNumber.NO_DOMAIN);
      assert.equal(e.domain, 12); // TEST
      // libvirt's test driver reports this error without a detail.
      assert.equal(e.message, 'Domain not found');
      assert.equal(e.str1, 'Domain not found');
      assert.equal(e.level, 2);
      return true;
    });
    await assert.rejects(conn.domainDefineXML('<foo/>', 0), (e: VirtError) => e.code === ErrorNumber.XML_ERROR);
    await assert.rejects(conn.networkLookupByName('rpc-nosuch'), (e: VirtError) => e.code === ErrorNumber.NO_NETWORK);
  });

  test('define, start, destroy, undefine with the lifecycle events libvirt sends', async () => {
    const events: DomainEvent[] = [];
    const cbid = await conn.domainEventRegisterAny(null, 0, (ev) => events.push(ev));
    const name = `rpc-life-${process.pid}`;
    const dom = await conn.domainDefineXML(domXml(name), 0);
    assert.equal(dom.id, -1);
    assert.equal(await conn.numOfDefinedDomains(), (await conn.listDefinedDomains(100)).length);
    assert.ok((await conn.listDefinedDomains(100)).includes(name));
    const started = await conn.domainCreate(dom, 0);
    assert.ok(started.id > 0);
    await assert.rejects(conn.domainCreate(dom, 0), (e: VirtError) => e.message === "internal error: Domain '" + name + "' is already running");
    await conn.domainSuspend(started);
    await conn.domainResume(started);
    await conn.domainDestroy(started, 0);
    await conn.domainUndefine(dom, 0);
    await waitFor(events, 6);
    const seq = events.filter((e) => e.dom.name === name).map((e) => (e.eventId === 0 ? [e.event, e.detail, e.dom.id > 0] : null));
    assert.deepEqual(seq, [
      [0, 0, false], // DEFINED ADDED
      [2, 0, true], // STARTED BOOTED
      [3, 0, true], // SUSPENDED PAUSED
      [4, 0, true], // RESUMED UNPAUSED
      [5, 1, false], // STOPPED DESTROYED
      [1, 0, false], // UNDEFINED REMOVED
    ]);
    await conn.domainEventDeregisterAny(cbid);
    await assert.rejects(conn.domainEventDeregisterAny(cbid), (e: VirtError) => e.code === ErrorNumber.INVALID_ARG);
  });

  test('networks: list, lookup, XML, bridge, autostart, state', async () => {
    const nets = await conn.listAllNetworks(3);
    const def = nets.find((n) => n.name === 'default');
    assert.ok(def);
    assert.deepEqual(await conn.networkLookupByName('default'), def);
    assert.deepEqual(await conn.networkLookupByUUID(def.uuid), def);
    assert.match(await conn.networkGetXMLDesc(def, 0), /<network>/);
    assert.equal(await conn.networkGetBridgeName(def), 'virbr0');
    assert.equal(await conn.networkIsActive(def), true);
    assert.equal(await conn.networkIsPersistent(def), true);
    assert.equal(typeof (await conn.networkGetAutostart(def)), 'boolean');
    assert.equal(await conn.numOfNetworks(), (await conn.listNetworks(100)).length);
    assert.equal(await conn.numOfDefinedNetworks(), (await conn.listDefinedNetworks(100)).length);
    const pools = await conn.listAllStoragePools(0);
    assert.ok(pools.some((p) => p.name === 'default-pool'));
  });

  test('network lifecycle events', async () => {
    const events: unknown[] = [];
    const id = await conn.networkEventRegisterAny(null, 0, (ev) => events.push([ev.net.name, ev.event, ev.detail]));
    const name = `rpcnet${process.pid}`;
    const net = await conn.networkDefineXML(`<network><name>${name}</name><bridge name='vbr${process.pid % 10000}'/></network>`, 0);
    await conn.networkCreate(net);
    await conn.networkDestroy(net);
    await conn.networkUndefine(net);
    await waitFor(events, 4);
    assert.deepEqual(events, [
      [name, 0, 0],
      [name, 2, 0],
      [name, 3, 0],
      [name, 1, 0],
    ]);
    await conn.networkEventDeregisterAny(id);
  });

  test('read-only connections are refused mutating calls by the client, as libvirt does', async () => {
    const ro = await RemoteDriver.open(lvd.uri('test', '/default'), { readonly: true });
    try {
      const dom = await ro.domainLookupByName('test');
      assert.equal((await ro.domainGetInfo(dom)).state, 1);
      await assert.rejects(ro.domainDestroy(dom, 0), (e: unknown) => {
        assert.ok(e instanceof VirtError);
        assert.equal(e.code, 29);
        assert.equal(e.domain, 20);
        assert.equal(e.message, 'operation forbidden: read only access prevents virDomainDestroy');
        return true;
      });
    } finally {
      await ro.close();
    }
  });

  test('keepalive: the server answers our PINGs across idle intervals', async () => {
    const c = await RemoteDriver.open(lvd.uri('test', '/default'), { keepaliveInterval: 1, keepaliveCount: 1 });
    try {
      await new Promise((r) => setTimeout(r, 3500));
      assert.equal(await c.isAlive(), true);
      assert.equal(await c.getType(), 'TEST');
    } finally {
      await c.close();
    }
  });
});

describe('remote driver across a libvirtd restart', { skip }, () => {
  test('close callback fires on EOF without reconnect; with reconnect, events keep coming', async () => {
    const lvd = await startLibvirtd({ tag: 'rpc' });
    try {
      const plain = await RemoteDriver.open(lvd.uri('test', '/default'));
      const reasons: number[] = [];
      await plain.registerCloseCallback((r) => reasons.push(r));

      const rc = await RemoteDriver.open(lvd.uri('test', '/default'), { reconnect: { attempts: 40, delay: 250 } });
      const events: string[] = [];
      await rc.domainEventRegisterAny(null, 0, (ev) => events.push(`${ev.dom.name}:${(ev as { event: number }).event}`));

      await lvd.restart();
      await waitFor(reasons, 1);
      assert.deepEqual(reasons, [1]); // EOF
      assert.equal(await plain.isAlive(), false);
      await assert.rejects(plain.getType(), VirtError);

      // The reconnecting driver answers again and its registration was restored.
      assert.equal(await rc.getType(), 'TEST');
      const name = `rpc-rc-${process.pid}`;
      const dom = await rc.domainDefineXML(domXml(name), 0);
      await waitFor(events, 1);
      assert.deepEqual(events, [`${name}:0`]);
      await rc.domainUndefine(dom, 0);
      await rc.close();
      await plain.close();
    } finally {
      await lvd.stop();
    }
  });
});
