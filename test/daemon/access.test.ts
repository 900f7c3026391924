// A running tsvirtd and who may do what: the read-write socket is root's only (the kernel
// refuses others), the read-only socket is everyone's and refuses every change with libvirt's
// error; the peer's uid/gid/pid reach the access log; bad procedures get libvirt's errors and
// never cost the connection; keepalive from the daemon's config finds dead peers; each client
// gets only the events it registered for.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PING_FRAME, PONG_FRAME } from '../../src/rpc/keepalive.js';
import { encodeRawMessage, KEEPALIVE_PROGRAM, KeepaliveProcedure, MessageStatus, MessageType } from '../../src/rpc/message.js';
import { NetMessageError, netErrorToVirtError } from '../../src/rpc/netError.js';
import * as x from '../../src/rpc/xdr.js';
import * as P from '../../src/remote/protocol.js';
import { RemoteDriver } from '../../src/remote/remoteDriver.js';
import { hasCommand, isRoot, testUser } from '../helpers/system.js';
import { rawConnect } from '../remote/proxy.js';
import { run } from '../helpers/command.js';
import { startTsvirtd, type RunningTsvirtd } from './tsvirtd.js';

const skip = !isRoot ? 'needs root' : hasCommand('virsh') ? false : 'needs virsh';
const Proc = P.Procedure;

function errorOf(m: { header: { type: number; status: number }; payload: Buffer } | null) {
  assert.ok(m, 'a reply');
  assert.equal(m.header.type, MessageType.REPLY);
  assert.equal(m.header.status, MessageStatus.ERROR);
  return netErrorToVirtError(x.decode(NetMessageError, m.payload));
}

describe('tsvirtd: sockets, identities, refusals', { skip }, () => {
  let d: RunningTsvirtd;
  let dir: string;
  let logFile: string;
  before(async () => {
    dir = mkdtempSync(`/tmp/tsvirt-daemon-acc-${process.pid}-`);
    chmodSync(dir, 0o755);
    logFile = join(dir, 'access.log');
    d = await startTsvirtd({
      tag: 'acc',
      config: [`log_filters = "1:daemon.access 2:daemon.clients"`, `log_outputs = "1:file:${logFile} 3:stderr"`, 'keepalive_interval = 1', 'keepalive_count = 2', ''].join('\n'),
    });
  });
  after(async () => {
    await d?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the read-only socket refuses changes with libvirt\'s error; reads work', async () => {
    const ro = d.uri('test', '/default', true);
    let r = await run('virsh', ['-c', ro, 'destroy', 'test']);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, "error: Failed to destroy domain 'test'\nerror: operation forbidden: read only access prevents virDomainDestroy\n");
    r = await run('virsh', ['-c', ro, 'domstate', 'test']);
    assert.equal(r.stdout.trim(), 'running');
    // Python on the read-only socket without asking for read-only: refused all the same.
    const py = await run('/usr/bin/python3', [
      '-c',
      `import libvirt
libvirt.registerErrorHandler(lambda c, e: None, None)
c = libvirt.open('${ro}')
try:
    c.lookupByName('test').suspend()
except libvirt.libvirtError as e:
    print(e.get_error_code(), e.get_error_domain(), e.get_error_message())
print(c.lookupByName('test').state())`,
    ]);
    assert.equal(py.stdout, 'operation forbidden: read only access prevents virDomainSuspend'.replace(/^/, '29 20 ') + '\n[1, 0]\n', py.stderr);
  });

  test('an unprivileged user cannot open the read-write socket; the read-only one works and the log names the peer', async () => {
    const user = testUser();
    const env = { PATH: '/usr/bin:/bin', HOME: '/tmp', LANG: 'C' };
    let r = await run('virsh', ['-c', d.uri('test', '/default'), 'domstate', 'test'], { env, uid: user.uid, gid: user.gid });
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`Failed to connect socket to '${d.socket}': Permission denied`));
    // The read-only socket: and its pid is the one the access log records.
    const c = spawn('virsh', ['-c', d.uri('test', '/default', true), 'domstate', 'test'], { env, uid: user.uid, gid: user.gid });
    let out = '';
    c.stdout.on('data', (b: Buffer) => (out += b.toString()));
    await new Promise((res) => c.on('close', res));
    assert.equal(out.trim(), 'running');
    const log = readFileSync(logFile, 'utf8');
    assert.match(log, new RegExp(`info : daemon\\.clients : client \\d+ connected: unix uid=${user.uid} gid=${user.gid} pid=${c.pid} \\(read-only socket\\)`));
    assert.match(log, new RegExp(`debug : daemon\\.access : DOMAIN_GET_STATE by uid=${user.uid} gid=${user.gid} pid=${c.pid} \\(read-only\\): allowed`));
  });

  test('unknown procedure, program, version: libvirt\'s errors and the connection carries on', async () => {
    const c = await rawConnect(d.socket);
    try {
      c.call(Proc.CONNECT_OPEN, { name: 'test:///default', flags: 0 }, 0);
      assert.equal((await c.next())!.header.status, MessageStatus.OK);
      c.send(encodeRawMessage({ prog: P.REMOTE_PROGRAM, vers: 1, proc: 9999, type: MessageType.CALL, serial: 1, status: 0 }, Buffer.alloc(8)));
      let e = errorOf(await c.next());
      assert.deepEqual([e.code, e.domain, e.message], [39, 7, 'unknown procedure: 9999']);
      c.send(encodeRawMessage({ prog: 0x12345678, vers: 1, proc: 1, type: MessageType.CALL, serial: 2, status: 0 }));
      e = errorOf(await c.next());
      assert.equal(e.message, 'Cannot find program 305419896 version 1');
      c.send(encodeRawMessage({ prog: P.REMOTE_PROGRAM, vers: 2, proc: 3, type: MessageType.CALL, serial: 3, status: 0 }));
      assert.equal(errorOf(await c.next()).message, 'Cannot find program 536903814 version 2');
      c.call(Proc.DOMAIN_LOOKUP_BY_NAME, { name: 'nosuch' }, 4);
      e = errorOf(await c.next());
      assert.deepEqual([e.code, e.domain], [42, 12]);
      c.call(Proc.CONNECT_GET_TYPE, undefined, 5);
      const ok = (await c.next())!;
      assert.equal(ok.header.status, MessageStatus.OK);
      assert.equal(x.decode(P.procedures[Proc.CONNECT_GET_TYPE]!.ret, ok.payload).type, 'TEST');
    } finally {
      c.close();
    }
  });

  test('missing objects: virsh and python get libvirt\'s not-found errors', async () => {
    const r = await run('virsh', ['-c', d.uri('test', '/default'), 'dominfo', 'nosuch']);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, "error: failed to get domain 'nosuch'\n");
    const n = await run('virsh', ['-c', d.uri('test', '/default'), 'net-info', 'nosuch']);
    assert.equal(n.stderr, "error: failed to get network 'nosuch'\nerror: Network not found: no network with matching name 'nosuch'\n");
    // The same lookups through tsvirtd and in libvirt's own test driver (in-process) give the
    // same errors.
    const lookups = (uri: string) =>
      run('/usr/bin/python3', [
        '-c',
        `import libvirt
libvirt.registerErrorHandler(lambda c, e: None, None)
c = libvirt.open('${uri}')
for f in (lambda: c.lookupByName('nosuch'), lambda: c.lookupByUUIDString('11111111-2222-3333-4444-555555555555'), lambda: c.lookupByID(4242), lambda: c.networkLookupByName('nosuch')):
    try:
        f()
    except libvirt.libvirtError as e:
        print(e.get_error_code(), e.get_error_domain(), e.get_error_message())`,
      ]);
    const [ours, theirs] = await Promise.all([lookups(d.uri('test', '/default')), lookups('test:///default')]);
    assert.equal(ours.stdout.split('\n').length, 5, ours.stderr);
    assert.match(ours.stdout, /^42 12 Domain not found\n/);
    assert.equal(ours.stdout, theirs.stdout);
  });

  test('keepalive from the config: PINGs every second, a peer that never answers is dropped after the count', async () => {
    const c = await rawConnect(d.socket);
    c.call(Proc.CONNECT_SUPPORTS_FEATURE, { feature: 10 }, 0);
    assert.equal(x.decode(P.procedures[Proc.CONNECT_SUPPORTS_FEATURE]!.ret, (await c.next())!.payload).supported, 1);
    // The daemon answers our PING too.
    c.send(PING_FRAME);
    const pong = (await c.next())!;
    assert.deepEqual([pong.header.prog, pong.header.proc], [KEEPALIVE_PROGRAM, KeepaliveProcedure.PONG]);
    const t0 = Date.now();
    const pings: number[] = [];
    for (;;) {
      const m = await c.next(10000);
      if (m === null) break;
      assert.deepEqual([m.header.prog, m.header.proc, m.header.type], [KEEPALIVE_PROGRAM, KeepaliveProcedure.PING, MessageType.MESSAGE]);
      pings.push(Date.now() - t0);
    }
    // interval 1 s, count 2: two PINGs go unanswered, then the connection is closed.
    assert.equal(pings.length, 2, String(pings));
    const closedAfter = Date.now() - t0;
    assert.ok(closedAfter >= 2500 && closedAfter < 6000, `closed after ${closedAfter} ms`);
    assert.match(readFileSync(join(d.dir, 'tsvirtd.stderr'), 'utf8'), /warning : rpc : client \d+ \(uid 0 pid \d+, unix\): no response to keepalive, closing/);
    // And a peer that answers stays.
    const live = await rawConnect(d.socket);
    live.call(Proc.CONNECT_SUPPORTS_FEATURE, { feature: 10 }, 0);
    await live.next();
    const until = Date.now() + 3500;
    let answered = 0;
    while (Date.now() < until) {
      const m = await live.next(4000);
      assert.ok(m, 'connection kept');
      if (m.header.proc === KeepaliveProcedure.PING) {
        live.send(PONG_FRAME);
        answered++;
      }
    }
    assert.ok(answered >= 2);
    live.call(Proc.CONNECT_GET_LIB_VERSION, undefined, 1);
    let reply = await live.next();
    while (reply && reply.header.prog === KEEPALIVE_PROGRAM) reply = await live.next();
    assert.equal(errorOf(reply).message, 'internal error: hypervisor connection not open');
    live.close();
  });

  test('events go to the clients that registered for them, and only to them', async () => {
    const a = await RemoteDriver.open(d.uri('test', '/default'));
    const b = await RemoteDriver.open(d.uri('test', '/default'));
    const c = await RemoteDriver.open(d.uri('test', '/default'));
    try {
      const seenA: string[] = [];
      const seenC: string[] = [];
      await a.domainEventRegisterAny(null, 0, (ev) => ev.eventId === 0 && seenA.push(`${ev.dom.name}:${ev.event}`));
      const test = await c.domainLookupByName('test');
      await c.domainEventRegisterAny(test, 0, (ev) => ev.eventId === 0 && seenC.push(`${ev.dom.name}:${ev.event}`));
      const name = `acc-ev-${process.pid}`;
      const dom = await b.domainDefineXML(`<domain type='test'><name>${name}</name><memory>65536</memory><os><type>hvm</type></os></domain>`, 0);
      await b.domainUndefine(dom, 0);
      await b.domainSuspend(test);
      await b.domainResume(test);
      const end = Date.now() + 5000;
      while ((seenA.length < 4 || seenC.length < 2) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(seenA, [`${name}:0`, `${name}:1`, 'test:3', 'test:4']);
      assert.deepEqual(seenC, ['test:3', 'test:4']);
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });
});
