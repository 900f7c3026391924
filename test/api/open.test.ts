// open(): driver selection by URI, the default URI, read-only connections, closed connections.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  Connection,
  defaultURI,
  driverTable,
  ErrorDomain,
  ErrorNumber,
  open,
  openReadOnly,
  selectDriver,
  VirtError,
} from '../../src/api/index.js';
import { parseConnectURI } from '../../src/drivers/connectUri.js';

const isErr = (code: number, domain: number, message?: string | RegExp) => (e: unknown) => {
  assert.ok(e instanceof VirtError, String(e));
  assert.equal(e.code, code, e.message);
  assert.equal(e.domain, domain, e.message);
  if (typeof message === 'string') assert.equal(e.message, message);
  else if (message) assert.match(e.message, message);
  return true;
};

test('test:/// URIs open the test driver', async () => {
  const c = await open('test:///default');
  assert.ok(c instanceof Connection);
  assert.equal(await c.getType(), 'TEST');
  assert.equal(await c.getURI(), 'test:///default');
  await c.close();
  assert.equal(selectDriver(parseConnectURI('test:///default'))?.name, 'test');
});

test('URIs without a driver answer NO_CONNECT', async () => {
  for (const uri of ['foo:///x', 'xen:///system']) {
    await assert.rejects(open(uri), isErr(ErrorNumber.NO_CONNECT, ErrorDomain.NONE, `no connection driver available for ${uri}`));
  }
});

test('the selection table is the one place drivers are listed', () => {
  assert.ok(driverTable.every((d) => typeof d.name === 'string' && typeof d.accepts === 'function' && typeof d.open === 'function'));
  // A remote form of test:// is not the local test driver's to serve.
  assert.equal(selectDriver(parseConnectURI('test+unix:///default'))?.name === 'test', false);
  assert.equal(selectDriver(parseConnectURI('test://host/default'))?.name === 'test', false);
});

test('malformed URIs are refused with the URI error domain', async () => {
  await assert.rejects(open('not a uri'), isErr(ErrorNumber.INVALID_ARG, ErrorDomain.URI));
});

test('the default URI comes from LIBVIRT_DEFAULT_URI, else the local QEMU driver', async () => {
  assert.equal(defaultURI({ LIBVIRT_DEFAULT_URI: 'test:///default' }), 'test:///default');
  assert.match(defaultURI({}), /^qemu:\/\/\/(system|session)$/);
  const saved = process.env.LIBVIRT_DEFAULT_URI;
  process.env.LIBVIRT_DEFAULT_URI = 'test:///default';
  try {
    const c = await open();
    assert.equal(await c.getURI(), 'test:///default');
    await c.close();
  } finally {
    if (saved === undefined) delete process.env.LIBVIRT_DEFAULT_URI;
    else process.env.LIBVIRT_DEFAULT_URI = saved;
  }
});

test('a read-only connection refuses changes with libvirt errors and allows queries', async () => {
  const c = await openReadOnly('test:///default');
  try {
    assert.equal(c.readonly, true);
    const d = await c.domainLookupByName('test');
    const n = await c.networkLookupByName('default');
    const denied = (fn: string, domain: number) =>
      isErr(ErrorNumber.OPERATION_DENIED, domain, `operation forbidden: read only access prevents ${fn}`);
    await assert.rejects(d.destroy(), denied('virDomainDestroy', ErrorDomain.DOMAIN));
    await assert.rejects(d.suspend(), denied('virDomainSuspend', ErrorDomain.DOMAIN));
    await assert.rejects(d.setAutostart(true), denied('virDomainSetAutostart', ErrorDomain.DOMAIN));
    await assert.rejects(c.domainDefineXML('<x/>'), denied('virDomainDefineXML', ErrorDomain.DOMAIN));
    await assert.rejects(c.domainCreateXML('<x/>'), denied('virDomainCreateXML', ErrorDomain.DOMAIN));
    await assert.rejects(c.networkDefineXML('<x/>'), denied('virNetworkDefineXML', ErrorDomain.NETWORK));
    await assert.rejects(n.destroy(), denied('virNetworkDestroy', ErrorDomain.NETWORK));
    await assert.rejects(n.setAutostart(true), denied('virNetworkSetAutostart', ErrorDomain.NETWORK));
    await assert.rejects(d.getXMLDesc(1), isErr(ErrorNumber.OPERATION_DENIED, ErrorDomain.DOMAIN, 'operation forbidden: virDomainGetXMLDesc with secure flag'));
    assert.equal(await d.isActive(), true);
    assert.match(await d.getXMLDesc(0), /<name>test<\/name>/);
    assert.deepEqual((await c.listAllDomains()).map((x) => x.getName()), ['test']);
  } finally {
    await c.close();
  }
});

test('a closed connection refuses calls; close is idempotent', async () => {
  const c = await open('test:///default');
  const d = await c.domainLookupByName('test');
  await c.close();
  await c.close();
  assert.equal(await c.isAlive(), false);
  await assert.rejects(c.listAllDomains(), isErr(ErrorNumber.INVALID_CONN, ErrorDomain.NONE));
  await assert.rejects(d.getInfo(), isErr(ErrorNumber.INVALID_CONN, ErrorDomain.NONE));
});

test('a stale handle answers NO_DOMAIN naming its uuid and name', async () => {
  const c = await open('test:///default');
  try {
    const d = await c.domainDefineXML("<domain type='test'><name>gone</name><uuid>0f0f0f0f-0000-1111-2222-333333333333</uuid><memory>1024</memory><os><type>hvm</type></os></domain>");
    await d.undefine();
    await assert.rejects(
      d.create(),
      isErr(ErrorNumber.NO_DOMAIN, ErrorDomain.TEST, "Domain not found: no domain with matching uuid '0f0f0f0f-0000-1111-2222-333333333333' (gone)"),
    );
  } finally {
    await c.close();
  }
});

test('driver features, close callbacks, raw UUIDs and messages on the test driver', async () => {
  const c = await open('test:///default');
  try {
    assert.equal(await c.supportsFeature(9), true); // TYPED_PARAM_STRING
    assert.equal(await c.supportsFeature(10), false); // PROGRAM_KEEPALIVE: local, no keepalive
    const cb = (): void => undefined;
    await c.registerCloseCallback(cb);
    await c.unregisterCloseCallback(cb);
    await assert.rejects(c.unregisterCloseCallback(cb), (e: VirtError) => e.code === ErrorNumber.INVALID_ARG);
    const d = await c.domainLookupByName('test');
    assert.equal((await c.domainLookupByUUID(d.getUUID())).getName(), 'test');
    assert.deepEqual(await d.getMessages(0), []);
    const n = await c.networkLookupByName('default');
    assert.equal((await c.networkLookupByUUID(Buffer.from(n.getUUIDString().replace(/-/g, ''), 'hex'))).getName(), 'default');
    await assert.rejects(c.networkLookupByUUID(new Uint8Array(3)), (e: VirtError) => e.code === ErrorNumber.INVALID_ARG && e.domain === ErrorDomain.NETWORK);
    await assert.rejects(d.openConsole(), isErr(ErrorNumber.NO_SUPPORT, ErrorDomain.DOMAIN, 'this function is not supported by the connection driver: virDomainOpenConsole'));
  } finally {
    await c.close();
  }
});

test('a negative count or id is INVALID_ARG naming the argument, with the value and function in its fault', async () => {
  const c = await open('test:///default');
  try {
    await assert.rejects(c.listDomains(-1), (e: unknown) => {
      isErr(ErrorNumber.INVALID_ARG, ErrorDomain.DOMAIN, 'maxids in virConnectListDomains must be zero or greater')(e);
      assert.deepEqual((e as VirtError).fault, { value: '-1', object: 'virConnectListDomains' });
      return true;
    });
    await assert.rejects(c.listDefinedNetworks(-2), isErr(ErrorNumber.INVALID_ARG, ErrorDomain.NETWORK, 'maxnames in virConnectListDefinedNetworks must be zero or greater'));
  } finally {
    await c.close();
  }
});
