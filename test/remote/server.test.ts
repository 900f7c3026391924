// tsvirtd's server core answering every kind of input as libvirtd does (spec §1.9, §5.3), with
// hand-built frames; the Driver behind it is the RemoteDriver to a real private libvirtd.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ErrorDomain, ErrorNumber, VirtError } from '../../src/errors/index.js';
import type { Driver } from '../../src/drivers/driver.js';
import { PING_FRAME } from '../../src/rpc/keepalive.js';
import { encodeRawMessage, KEEPALIVE_PROGRAM, MessageStatus, MessageType } from '../../src/rpc/message.js';
import { NetMessageError, netErrorToVirtError } from '../../src/rpc/netError.js';
import * as x from '../../src/rpc/xdr.js';
import * as P from '../../src/remote/protocol.js';
import { RemoteDriver } from '../../src/remote/remoteDriver.js';
import { libvirtdSkipReason, startLibvirtd, type PrivateLibvirtd } from '../helpers/libvirtd.js';
import { rawConnect, startProxy, upstreamFactory, type Proxy, type RawConn } from './proxy.js';

const skip = libvirtdSkipReason();
const Proc = P.Procedure;
const REMOTE = P.REMOTE_PROGRAM;

function errorOf(m: { header: { type: number; status: number }; payload: Buffer } | null): VirtError {
  assert.ok(m, 'a reply');
  assert.equal(m.header.type, MessageType.REPLY);
  assert.equal(m.header.status, MessageStatus.ERROR);
  return netErrorToVirtError(x.decode(NetMessageError, m.payload));
}

async function opened(path: string, name = 'test:///default', flags = 0): Promise<RawConn> {
  const c = await rawConnect(path);
  c.call(Proc.CONNECT_OPEN, { name, flags }, 0);
  const r = await c.next();
  if (r?.header.status !== MessageStatus.OK) assert.fail(r ? errorOf(r).message : 'closed');
  return c;
}

describe('server core: answers to bad input (§1.9)', { skip }, () => {
  let lvd: PrivateLibvirtd;
  let px: Proxy;
  before(async () => {
    lvd = await startLibvirtd({ tag: 'rpc' });
    px = await startProxy(lvd);
  });
  after(async () => {
    await px?.close();
    await lvd?.stop();
  });

  test('a call before CONNECT_OPEN: internal error, hypervisor connection not open', async () => {
    const c = await rawConnect(px.socket);
    c.call(Proc.CONNECT_GET_TYPE, undefined, 7);
    const m = await c.next();
    const e = errorOf(m);
    assert.equal(m!.header.serial, 7);
    assert.equal(m!.header.proc, Proc.CONNECT_GET_TYPE);
    assert.equal(e.code, 1);
    assert.equal(e.domain, 7);
    assert.equal(e.message, 'internal error: hypervisor connection not open');
    // SUPPORTS_FEATURE(14) also needs the connection; (10) does not.
    c.call(Proc.CONNECT_SUPPORTS_FEATURE, { feature: 14 }, 8);
    assert.equal(errorOf(await c.next()).message, 'internal error: hypervisor connection not open');
    c.call(Proc.CONNECT_SUPPORTS_FEATURE, { feature: 10 }, 9);
    const ok = await c.next();
    assert.equal(ok!.header.status, MessageStatus.OK);
    assert.deepEqual(x.decode(P.ConnectSupportsFeatureRet, ok!.payload), { supported: 1 });
    c.close();
  });

  test('AUTH_LIST answers [NONE] on an auth-none socket, and calls work without it', async () => {
    const c = await rawConnect(px.socket);
    c.call(Proc.AUTH_LIST, undefined, 0);
    const m = await c.next();
    assert.deepEqual(x.decode(P.AuthListRet, m!.payload), { types: [0] });
    c.close();
  });

  test('a second CONNECT_OPEN fails and drops the open connection', async () => {
    const c = await opened(px.socket);
    c.call(Proc.CONNECT_OPEN, { name: 'test:///default', flags: 0 }, 1);
    assert.equal(errorOf(await c.next()).message, 'internal error: connection already open');
    c.call(Proc.CONNECT_GET_TYPE, undefined, 2);
    assert.equal(errorOf(await c.next()).message, 'internal error: hypervisor connection not open');
    c.close();
  });

  test('unknown procedures (9999, 0, an event number) get RPC error "unknown procedure", the connection stays', async () => {
    const c = await opened(px.socket);
    for (const proc of [9999, 0, Proc.DOMAIN_EVENT_LIFECYCLE, -5]) {
      c.send(encodeRawMessage({ prog: REMOTE, vers: 1, proc, type: MessageType.CALL, serial: 3, status: 0 }));
      const e = errorOf(await c.next());
      assert.equal(e.code, ErrorNumber.RPC);
      assert.equal(e.domain, ErrorDomain.RPC);
      assert.equal(e.message, `unknown procedure: ${proc}`);
    }
    c.call(Proc.CONNECT_GET_TYPE, undefined, 4);
    assert.equal((await c.next())!.header.status, MessageStatus.OK);
    c.close();
  });

  test('wrong version and unknown program: "Cannot find program", header echoing what was sent', async () => {
    const c = await opened(px.socket);
    c.send(encodeRawMessage({ prog: REMOTE, vers: 2, proc: 3, type: MessageType.CALL, serial: 11, status: 0 }));
    let m = await c.next();
    assert.equal(errorOf(m).message, 'Cannot find program 536903814 version 2');
    assert.equal(m!.header.vers, 2);
    assert.equal(m!.header.serial, 11);
    c.send(encodeRawMessage({ prog: 0x12345678, vers: 1, proc: 3, type: MessageType.CALL, serial: 12, status: 0 }));
    m = await c.next();
    assert.equal(errorOf(m).message, 'Cannot find program 305419896 version 1');
    assert.equal(m!.header.prog, 0x12345678);
    c.close();
  });

  test('a CALL with status ≠ OK, truncated args, extra bytes', async () => {
    const c = await opened(px.socket);
    c.send(encodeRawMessage({ prog: REMOTE, vers: 1, proc: 3, type: MessageType.CALL, serial: 5, status: 1 }));
    assert.equal(errorOf(await c.next()).message, 'Unexpected message status 1');
    // DOMAIN_LOOKUP_BY_NAME with a string length pointing past the frame.
    c.send(encodeRawMessage({ prog: REMOTE, vers: 1, proc: 23, type: MessageType.CALL, serial: 6, status: 0 }, Buffer.from('000000ff6162', 'hex')));
    const e = errorOf(await c.next());
    assert.equal(e.code, ErrorNumber.RPC);
    assert.equal(e.message, 'Unable to decode message payload');
    // Valid args followed by junk are accepted.
    const args = Buffer.concat([x.encode(P.DomainLookupByNameArgs, { name: 'test' }), Buffer.from('deadbeef', 'hex')]);
    c.send(encodeRawMessage({ prog: REMOTE, vers: 1, proc: 23, type: MessageType.CALL, serial: 7, status: 0 }, args));
    const ok = await c.next();
    assert.equal(ok!.header.status, MessageStatus.OK);
    assert.equal(x.decode(P.DomainLookupByNameRet, ok!.payload).dom.name, 'test');
    c.close();
  });

  test('a REPLY from the client is ignored silently; PING gets PONG without feature 10', async () => {
    const c = await rawConnect(px.socket);
    c.send(encodeRawMessage({ prog: REMOTE, vers: 1, proc: 3, type: MessageType.REPLY, serial: 1, status: 0 }));
    c.send(encodeRawMessage({ prog: REMOTE, vers: 1, proc: 3, type: MessageType.STREAM, serial: 77, status: 2 }, Buffer.from('x')));
    c.send(PING_FRAME);
    const m = await c.next();
    assert.deepEqual(m!.header, { prog: KEEPALIVE_PROGRAM, vers: 1, proc: 2, type: MessageType.MESSAGE, serial: 0, status: 0 });
    c.close();
  });

  test('the connection closes after the CONNECT_CLOSE reply', async () => {
    const c = await opened(px.socket);
    c.call(Proc.CONNECT_CLOSE, undefined, 1);
    const m = await c.next();
    assert.equal(m!.header.status, MessageStatus.OK);
    assert.equal(m!.header.proc, Proc.CONNECT_CLOSE);
    await c.closed;
  });

  test('bad length words close the connection without a reply; 33554436 is accepted', async () => {
    for (const len of [3, 4, 16, 27, 33554437]) {
      const c = await rawConnect(px.socket);
      const w = Buffer.alloc(4);
      w.writeUInt32BE(len);
      c.send(w);
      assert.equal(await c.next(), null, `length ${len}`);
    }
    const c = await rawConnect(px.socket);
    const w = Buffer.alloc(4);
    w.writeUInt32BE(33554436);
    c.send(w);
    await assert.rejects(c.next(300), /no message in time/);
    assert.equal(c.sock.destroyed, false);
    c.close();
  });

  test('a procedure the Driver interface lacks: NO_SUPPORT naming the public API function', async () => {
    const c = await opened(px.socket);
    c.call(Proc.DOMAIN_GET_BLOCK_INFO, { dom: { name: 'test', uuid: '6695eb01-f6a4-8304-79aa-97f2502e193f', id: 1 }, path: 'vda', flags: 0 }, 2);
    const e = errorOf(await c.next());
    assert.equal(e.code, ErrorNumber.NO_SUPPORT);
    assert.equal(e.domain, ErrorDomain.DOMAIN);
    assert.equal(e.message, 'this function is not supported by the connection driver: virDomainGetBlockInfo');
    c.close();
  });

  test('read-only socket: mutating calls refused with libvirt\'s error, reads work', async () => {
    const c = await opened(px.roSocket); // flags 0: the socket makes it read-only
    c.call(Proc.DOMAIN_LOOKUP_BY_NAME, { name: 'test' }, 1);
    const dom = x.decode(P.DomainLookupByNameRet, (await c.next())!.payload).dom;
    c.call(Proc.DOMAIN_DESTROY, { dom }, 2);
    const e = errorOf(await c.next());
    assert.equal(e.code, ErrorNumber.OPERATION_DENIED);
    assert.equal(e.domain, ErrorDomain.DOMAIN);
    assert.equal(e.message, 'operation forbidden: read only access prevents virDomainDestroy');
    assert.equal(e.str1, 'operation forbidden: %s');
    c.call(Proc.DOMAIN_DEFINE_XML, { xml: '<domain/>' }, 3);
    assert.equal(errorOf(await c.next()).message, 'operation forbidden: read only access prevents virDomainDefineXML');
    c.call(Proc.DOMAIN_GET_XML_DESC, { dom, flags: 1 }, 4);
    assert.equal(errorOf(await c.next()).message, 'operation forbidden: virDomainGetXMLDesc with secure flag');
    c.call(Proc.DOMAIN_GET_XML_DESC, { dom, flags: 0 }, 5);
    assert.match(x.decode(P.DomainGetXmlDescRet, (await c.next())!.payload).xml, /<name>test<\/name>/);
    c.call(Proc.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, { eventID: 0, dom: null }, 6);
    assert.equal((await c.next())!.header.status, MessageStatus.OK);
    c.close();
  });

  test('CONNECT_OPEN flag RO on the read-write socket is read-only too', async () => {
    const c = await opened(px.socket, 'test:///default', 1);
    c.call(Proc.DOMAIN_LOOKUP_BY_NAME, { name: 'test' }, 1);
    const dom = x.decode(P.DomainLookupByNameRet, (await c.next())!.payload).dom;
    c.call(Proc.DOMAIN_SUSPEND, { dom }, 2);
    assert.equal(errorOf(await c.next()).message, 'operation forbidden: read only access prevents virDomainSuspend');
    c.close();
  });

  test('errors from the driver go back exactly (domain resolved by uuid)', async () => {
    const c = await opened(px.socket);
    c.call(Proc.DOMAIN_LOOKUP_BY_NAME, { name: 'nosuch' }, 1);
    const e = errorOf(await c.next());
    assert.equal(e.code, ErrorNumber.NO_DOMAIN);
    assert.equal(e.domain, 12);
    c.call(Proc.DOMAIN_GET_STATE, { dom: { name: 'wrong', uuid: '00000000-0000-0000-0000-000000000001', id: 1 }, flags: 0 }, 2);
    assert.equal(errorOf(await c.next()).code, ErrorNumber.NO_DOMAIN);
    c.close();
  });

  test('legacy registrations (105, 167): lifecycle messages 107 without callbackID', async () => {
    const c = await opened(px.socket);
    c.call(Proc.CONNECT_DOMAIN_EVENT_REGISTER, undefined, 1);
    const r = await c.next();
    assert.deepEqual(x.decode(P.ConnectDomainEventRegisterRet, r!.payload), { cb_registered: 1 });
    c.call(Proc.CONNECT_DOMAIN_EVENT_REGISTER_ANY, { eventID: 0 }, 2);
    assert.equal(errorOf(await c.next()).message, 'invalid argument: event callback already tracked');
    c.call(Proc.CONNECT_DOMAIN_EVENT_REGISTER_ANY, { eventID: 1 }, 3);
    assert.equal((await c.next())!.header.status, MessageStatus.OK);
    const d = await RemoteDriver.open(px.uri());
    const name = `rpc-legacy-${process.pid}`;
    const dom = await d.domainDefineXML(`<domain type='test'><name>${name}</name><memory>65536</memory><os><type>hvm</type></os></domain>`, 0);
    const m = await c.next();
    assert.equal(m!.header.type, MessageType.MESSAGE);
    assert.equal(m!.header.proc, Proc.DOMAIN_EVENT_LIFECYCLE);
    assert.equal(m!.header.serial, 1);
    const body = x.decode(P.DomainEventLifecycleMsg, m!.payload, 0, m!.payload.length, true);
    assert.deepEqual([body.dom.name, body.event, body.detail], [name, 0, 0]);
    await d.domainUndefine(dom, 0);
    await d.close();
    c.call(Proc.CONNECT_DOMAIN_EVENT_DEREGISTER, undefined, 4);
    let next = await c.next();
    while (next!.header.type === MessageType.MESSAGE) next = await c.next(); // the undefine event
    assert.deepEqual(x.decode(P.ConnectDomainEventDeregisterRet, next!.payload), { cb_registered: 0 });
    c.call(Proc.CONNECT_DOMAIN_EVENT_DEREGISTER_ANY, { eventID: 0 }, 5);
    assert.equal(errorOf(await c.next()).message, 'internal error: domain event 0 not registered');
    c.call(Proc.CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY, { callbackID: 123456 }, 6);
    assert.equal(errorOf(await c.next()).message, 'internal error: domain event callback 123456 not registered');
    c.call(Proc.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, { eventID: 27, dom: null }, 7);
    assert.equal(errorOf(await c.next()).message, 'internal error: unsupported event ID 27');
    c.close();
  });

  test('the access hook sees the unix peer (SO_PEERCRED uid/gid/pid)', async () => {
    const c = await opened(px.socket);
    c.call(Proc.CONNECT_GET_TYPE, undefined, 1);
    await c.next();
    const id = px.identities.at(-1)!;
    assert.equal(id.transport, 'unix');
    assert.equal(id.uid, process.getuid!());
    assert.equal(id.gid, process.getgid!());
    assert.equal(id.pid, process.pid);
    c.close();
  });
});

describe('server core: authentication, access control, limits', { skip }, () => {
  let lvd: PrivateLibvirtd;
  before(async () => {
    lvd = await startLibvirtd({ tag: 'rpc' });
  });
  after(async () => {
    await lvd?.stop();
  });

  test('polkit socket: root that skips AUTH_LIST gets "authentication required"; AUTH_LIST lets it in', async () => {
    const px = await startProxy(lvd, { rwAuth: 'polkit' });
    try {
      const c = await rawConnect(px.socket);
      c.call(Proc.CONNECT_OPEN, { name: 'test:///default', flags: 0 }, 0);
      const e = errorOf(await c.next());
      assert.equal(e.code, ErrorNumber.RPC);
      assert.equal(e.message, 'authentication required');
      c.call(Proc.AUTH_LIST, undefined, 1);
      assert.deepEqual(x.decode(P.AuthListRet, (await c.next())!.payload), { types: [0] });
      c.call(Proc.CONNECT_OPEN, { name: 'test:///default', flags: 0 }, 2);
      assert.equal((await c.next())!.header.status, MessageStatus.OK);
      c.close();
      // libvirt's own client path: AUTH_LIST first, so it just works.
      const d = await RemoteDriver.open(px.uri());
      assert.equal(await d.getType(), 'TEST');
      await d.close();
    } finally {
      await px.close();
    }
  });

  test('the authorize hook refuses with its own error', async () => {
    const px = await startProxy(lvd, {
      authorize: (req) => {
        if (req.procedure.name === 'DOMAIN_DESTROY') throw new VirtError({ code: ErrorNumber.ACCESS_DENIED, domain: ErrorDomain.ACCESS, message: "access denied: 'domain:stop'" });
      },
    });
    try {
      const d = await RemoteDriver.open(px.uri());
      const dom = await d.domainLookupByName('test');
      await assert.rejects(d.domainDestroy(dom, 0), (e: VirtError) => e.code === ErrorNumber.ACCESS_DENIED && e.domain === ErrorDomain.ACCESS);
      assert.equal((await d.domainGetState(dom, 0)).state, 1);
      await d.close();
    } finally {
      await px.close();
    }
  });

  test('at most max_client_requests calls of one client reach the driver at once', async () => {
    let inDriver = 0;
    let peak = 0;
    const factory = upstreamFactory(lvd);
    const px = await startProxy(lvd, {
      maxClientRequests: 3,
      openDriver: async (name, o) => {
        const real = await factory(name, o);
        // The same driver, with getHostname held for a moment so calls pile up.
        return new Proxy(real, {
          get(target, prop, recv) {
            if (prop === 'getHostname') {
              return async () => {
                inDriver++;
                peak = Math.max(peak, inDriver);
                await new Promise((r) => setTimeout(r, 50));
                inDriver--;
                return target.getHostname();
              };
            }
            const v = Reflect.get(target, prop, recv);
            return typeof v === 'function' ? v.bind(target) : v;
          },
        }) as Driver;
      },
    });
    try {
      const d = await RemoteDriver.open(px.uri());
      const names = await Promise.all(Array.from({ length: 12 }, () => d.getHostname()));
      assert.equal(new Set(names).size, 1);
      assert.equal(peak, 3);
      await d.close();
    } finally {
      await px.close();
    }
  });

  test('a client that stops reading is disconnected when its event queue overflows; others carry on', async () => {
    const px = await startProxy(lvd, { maxQueuedMessages: 16 });
    try {
      // The slow client registers for lifecycle events, then stops reading its socket.
      const slow = await opened(px.socket);
      slow.call(Proc.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, { eventID: 0, dom: null }, 1);
      assert.equal((await slow.next())!.header.status, MessageStatus.OK);
      // libvirt tracks one callback per event and filter on a connection.
      slow.call(Proc.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, { eventID: 0, dom: null }, 2);
      assert.equal(errorOf(await slow.next()).message, 'invalid argument: event callback already tracked');
      slow.sock.pause();
      // A well-behaved client watching the same events, making them with long domain names
      // (2 KB event messages fill the slow client's socket buffer sooner).
      const good = await RemoteDriver.open(px.uri());
      let seen = 0;
      await good.domainEventRegisterAny(null, 0, () => seen++);
      const xml = (n: string) => `<domain type='test'><name>${n}</name><memory>65536</memory><os><type>hvm</type></os></domain>`;
      let cycles = 0;
      for (; cycles < 1000 && !px.logs.some((l) => l.includes('event queue full')); cycles++) {
        const dom = await good.domainDefineXML(xml(`rpc-slow-${cycles}-${'x'.repeat(2000)}`), 0);
        await good.domainUndefine(dom, 0);
      }
      assert.ok(px.logs.some((l) => /client \d+ \(uid 0 pid \d+, unix\): event queue full \(\d+ messages not read\), disconnecting/.test(l)), px.logs.join('\n'));
      // The server dropped it: only the good client is left, and the slow one sees EOF once it reads.
      assert.equal(px.server.clients.size, 1);
      slow.sock.resume();
      await slow.closed;
      assert.equal(await good.getType(), 'TEST');
      const end = Date.now() + 3000;
      while (seen < cycles * 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      assert.equal(seen, cycles * 2);
      await good.close();
    } finally {
      await px.close();
    }
  });

  test('close callback: the server tells its client (362) when its driver connection goes away', async () => {
    const own = await startLibvirtd({ tag: 'rpc' });
    const px = await startProxy(own);
    try {
      const d = await RemoteDriver.open(px.uri());
      const reasons: number[] = [];
      await d.registerCloseCallback((r) => reasons.push(r));
      await own.kill(); // the proxy's upstream connection sees EOF
      const end = Date.now() + 5000;
      while (reasons.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(reasons, [1]); // VIR_CONNECT_CLOSE_REASON_EOF, relayed by the server
      assert.equal(await d.isAlive(), true); // our own connection to tsvirt is still up
      await d.close();
    } finally {
      await px.close();
      await own.stop();
    }
  });

  test('max_clients: a connection over the limit is dropped with a log line', async () => {
    const px = await startProxy(lvd, { maxClients: 2 });
    try {
      const a = await RemoteDriver.open(px.uri());
      const b = await RemoteDriver.open(px.uri());
      await assert.rejects(RemoteDriver.open(px.uri()), VirtError);
      assert.ok(px.logs.some((l) => /Too many active clients \(2\), dropping connection/.test(l)));
      await a.close();
      const end = Date.now() + 3000;
      while (px.server.clients.size > 1 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      const c = await RemoteDriver.open(px.uri());
      assert.equal(await c.getType(), 'TEST');
      await Promise.all([b.close(), c.close()]);
    } finally {
      await px.close();
    }
  });

  test('closing the server drops its clients and leaves the guests running', async () => {
    const holder = await RemoteDriver.open(lvd.uri('test', '/default'));
    const px = await startProxy(lvd);
    try {
      const d = await RemoteDriver.open(px.uri());
      const reasons: number[] = [];
      await d.registerCloseCallback((r) => reasons.push(r));
      const name = `rpc-keep-${process.pid}`;
      const dom = await d.domainCreateXML(`<domain type='test'><name>${name}</name><memory>65536</memory><os><type>hvm</type></os></domain>`, 0);
      assert.ok(dom.id > 0);
      await px.server.close();
      const end = Date.now() + 3000;
      while (reasons.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(reasons, [1]);
      assert.equal(px.server.clients.size, 0);
      // The guest the client started is still running.
      const still = await holder.domainLookupByName(name);
      assert.equal((await holder.domainGetState(still, 0)).state, 1);
      await holder.domainDestroy(still, 0);
    } finally {
      await px.close();
      await holder.close();
    }
  });

  test('read-only tsvirt client refuses secure XML locally, as libvirt\'s client does', async () => {
    const px = await startProxy(lvd);
    try {
      const d = await RemoteDriver.open(px.uri(), { readonly: true });
      const dom = await d.domainLookupByName('test');
      await assert.rejects(d.domainGetXMLDesc(dom, 1), (e: VirtError) => e.code === 29 && e.message === 'operation forbidden: virDomainGetXMLDesc with secure flag');
      assert.match(await d.domainGetXMLDesc(dom, 2), /<domain/);
      await d.close();
    } finally {
      await px.close();
    }
  });
});
