// The same hand-built inputs sent to a real libvirtd and to tsvirtd's server core: the replies
// must be the same bytes (headers, serials, error bodies), and the connection must close in the
// same cases. This checks spec §1.9 against the real thing rather than against the spec's text.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PING_FRAME } from '../../src/rpc/keepalive.js';
import { encodeMessage, encodeRawMessage, MessageType } from '../../src/rpc/message.js';
import * as x from '../../src/rpc/xdr.js';
import * as P from '../../src/remote/protocol.js';
import { RemoteDriver } from '../../src/remote/remoteDriver.js';
import { libvirtdSkipReason, startLibvirtd, type PrivateLibvirtd } from '../helpers/libvirtd.js';
import { rawConnect, startProxy, type Proxy } from './proxy.js';

const skip = libvirtdSkipReason();
const REMOTE = P.REMOTE_PROGRAM;
const Proc = P.Procedure;

const call = <N extends keyof P.ProcedureTypes>(proc: N, args: P.ProcedureTypes[N]['args'], serial: number, over: Partial<{ prog: number; vers: number; type: number; status: number }> = {}) =>
  encodeMessage({ prog: REMOTE, vers: 1, proc, type: MessageType.CALL, serial, status: 0, ...over }, P.procedures[proc]!.args, args);
const raw = (proc: number, serial: number, payload?: Buffer, over: Partial<{ prog: number; vers: number; type: number; status: number }> = {}) =>
  encodeRawMessage({ prog: REMOTE, vers: 1, proc, type: MessageType.CALL, serial, status: 0, ...over }, payload);
const open = (serial = 0, flags = 0) => call(Proc.CONNECT_OPEN, { name: 'test:///default', flags }, serial);
/** A length word and bytes after it (libvirtd reads len-4 bytes before it judges the frame). */
const lengthWord = (n: number) => {
  const b = Buffer.alloc(64);
  b.writeUInt32BE(n);
  return b;
};
const testDom = { name: 'test', uuid: '6695eb01-f6a4-8304-79aa-97f2502e193f', id: 1 };

/**
 * Each case: frames sent on a fresh connection, each after the reply to the one before (as
 * libvirt's clients do: libvirtd runs a client's calls on parallel workers, so pipelined calls
 * may be answered in any order); `replies` is how many answers in total.
 */
const cases: { name: string; frames: Buffer[]; replies: number }[] = [
  { name: 'call before open', frames: [call(Proc.CONNECT_GET_TYPE, undefined, 5)], replies: 1 },
  { name: 'feature 10 and 14 before open', frames: [call(Proc.CONNECT_SUPPORTS_FEATURE, { feature: 10 }, 1), call(Proc.CONNECT_SUPPORTS_FEATURE, { feature: 14 }, 2)], replies: 2 },
  { name: 'AUTH_LIST', frames: [call(Proc.AUTH_LIST, undefined, 0)], replies: 1 },
  { name: 'second open drops the first', frames: [open(), open(1), call(Proc.CONNECT_GET_TYPE, undefined, 2)], replies: 3 },
  { name: 'unknown procedures', frames: [open(), raw(9999, 1), raw(0, 2), raw(Proc.DOMAIN_EVENT_LIFECYCLE, 3), raw(-5, 4)], replies: 5 },
  { name: 'wrong version, unknown program', frames: [open(), raw(3, 1, undefined, { vers: 2 }), raw(3, 2, undefined, { prog: 0x12345678 })], replies: 3 },
  { name: 'status not OK', frames: [open(), raw(3, 1, undefined, { status: 1 }), raw(3, 2, undefined, { status: 2 })], replies: 3 },
  { name: 'truncated and extra argument bytes', frames: [open(), raw(23, 1, Buffer.from('000000ff6162', 'hex')), raw(23, 2, Buffer.concat([x.encode(P.DomainLookupByNameArgs, { name: 'test' }), Buffer.alloc(8)]))], replies: 3 },
  // In one write: libvirtd stops reading a client for a while after a REPLY from it.
  { name: 'a REPLY from the client, then PING', frames: [Buffer.concat([raw(3, 1, undefined, { type: MessageType.REPLY }), PING_FRAME])], replies: 1 },
  { name: 'AUTH_POLKIT and SASL on an auth-none socket', frames: [call(Proc.AUTH_POLKIT, undefined, 1), call(Proc.AUTH_SASL_INIT, undefined, 2)], replies: 2 },
  { name: 'read-only by open flag', frames: [open(0, 1), call(Proc.DOMAIN_DESTROY, { dom: testDom }, 1), call(Proc.DOMAIN_GET_XML_DESC, { dom: testDom, flags: 1 }, 2), call(Proc.DOMAIN_UNDEFINE_FLAGS, { dom: testDom, flags: 0 }, 3)], replies: 4 },
  { name: 'event registration errors', frames: [open(), call(Proc.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, { eventID: 27, dom: null }, 1), call(Proc.CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY, { callbackID: 987654 }, 2), call(Proc.CONNECT_NETWORK_EVENT_REGISTER_ANY, { eventID: 1, net: null }, 3), call(Proc.CONNECT_DOMAIN_EVENT_DEREGISTER_ANY, { eventID: 3 }, 4)], replies: 5 },
  { name: 'legacy registration twice', frames: [open(), call(Proc.CONNECT_DOMAIN_EVENT_REGISTER_ANY, { eventID: 2 }, 1), call(Proc.CONNECT_DOMAIN_EVENT_REGISTER_ANY, { eventID: 2 }, 2)], replies: 3 },
  { name: 'list limits', frames: [open(), call(Proc.CONNECT_LIST_DOMAINS, { maxids: 16385 }, 1), call(Proc.CONNECT_LIST_DEFINED_DOMAINS, { maxnames: 16385 }, 2)], replies: 3 },
  { name: 'lookups and a uuid that is not there', frames: [open(), call(Proc.DOMAIN_LOOKUP_BY_NAME, { name: 'nosuch' }, 1), call(Proc.DOMAIN_GET_STATE, { dom: { ...testDom, uuid: '00000000-0000-0000-0000-000000000001' }, flags: 0 }, 2), call(Proc.DOMAIN_GET_STATE, { dom: { ...testDom, name: 'wrong', id: 99 }, flags: 0 }, 3)], replies: 4 },
  { name: 'CONNECT_CLOSE closes', frames: [open(), call(Proc.CONNECT_CLOSE, undefined, 1)], replies: 2 },
  { name: 'length 3', frames: [lengthWord(3)], replies: 0 },
  { name: 'length 27', frames: [lengthWord(27)], replies: 0 },
  { name: 'length 33554437', frames: [lengthWord(33554437)], replies: 0 },
];

async function exchange(path: string, frames: Buffer[], replies: number): Promise<{ replies: string[]; closed: boolean }> {
  const c = await rawConnect(path);
  const got: string[] = [];
  for (const f of frames) {
    c.send(f);
    // Frames that get no answer (a REPLY from the client, bad lengths) are followed at once.
    const m = await c.next(got.length < replies ? 1000 : 50).catch(() => undefined);
    if (m === null) break;
    if (m) got.push(`${JSON.stringify(m.header)} ${m.payload.toString('hex')}`);
  }
  // Anything more, or the connection closing, within a short while.
  const extra = await c.next(300).catch(() => undefined);
  const closed = extra === null;
  if (extra) got.push(`extra ${JSON.stringify(extra.header)}`);
  c.close();
  return { replies: got, closed };
}

describe('differential: libvirtd and tsvirt answer the same bytes', { skip }, () => {
  let direct: PrivateLibvirtd;
  let behind: PrivateLibvirtd;
  let px: Proxy;
  const holders: RemoteDriver[] = [];
  before(async () => {
    [direct, behind] = await Promise.all([startLibvirtd({ tag: 'rpc' }), startLibvirtd({ tag: 'rpc' })]);
    for (const l of [direct, behind]) holders.push(await RemoteDriver.open(l.uri('test', '/default')));
    px = await startProxy(behind);
  });
  after(async () => {
    for (const h of holders) await h.close();
    await px?.close();
    await Promise.all([direct?.stop(), behind?.stop()]);
  });

  for (const c of cases) {
    test(c.name, async () => {
      const theirs = await exchange(direct.socket, c.frames, c.replies);
      const ours = await exchange(px.socket, c.frames, c.replies);
      assert.equal(theirs.replies.length, c.replies, 'libvirtd answered as expected');
      assert.deepEqual(ours, theirs);
    });
  }
});
