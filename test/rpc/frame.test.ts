// Frames and messages against the bytes captured from real virsh ↔ libvirtd 9.0 traffic
// (spec rpc-protocol.md §1), and the frame reader's limits.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorDomain, ErrorNumber, VirtError, virtError } from '../../src/errors/index.js';
import { FrameError, FrameReader } from '../../src/rpc/frameReader.js';
import { decodeHeader, encodeMessage, MESSAGE_HEADER_MAX, MESSAGE_MAX, MessageStatus, MessageType } from '../../src/rpc/message.js';
import { NetMessageError, netErrorToVirtError, virtErrorToNetError } from '../../src/rpc/netError.js';
import * as x from '../../src/rpc/xdr.js';
import * as P from '../../src/remote/protocol.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/[\s|]/g, ''), 'hex');
const REMOTE = P.REMOTE_PROGRAM;

test('CONNECT_OPEN call is the 56 bytes virsh sends', () => {
  const frame = encodeMessage(
    { prog: REMOTE, vers: 1, proc: P.Procedure.CONNECT_OPEN, type: MessageType.CALL, serial: 2, status: MessageStatus.OK },
    P.ConnectOpenArgs,
    { name: 'qemu:///system', flags: 0 },
  );
  assert.deepEqual(
    frame,
    hex(
      '00000038 | 20008086 00000001 00000001 00000000 00000002 00000000 | 00000001 0000000e 71656d75 3a2f2f2f 73797374 656d0000 | 00000000',
    ),
  );
  const h = decodeHeader(frame.subarray(4));
  assert.deepEqual(h, { prog: REMOTE, vers: 1, proc: 1, type: 0, serial: 2, status: 0 });
  assert.deepEqual(x.decode(P.ConnectOpenArgs, frame, 4 + MESSAGE_HEADER_MAX), { name: 'qemu:///system', flags: 0 });
});

const NO_DOMAIN_REPLY = hex(
  [
    '000000d4 20008086 00000001 00000017 00000001 00000006 00000001',
    '0000002a 0000000a',
    '00000001 0000003e',
    Buffer.from("Domain not found: no domain with matching name 'rpccap-nosuch'").toString('hex') + '0000',
    '00000002',
    '00000000',
    '00000001 00000014',
    Buffer.from('Domain not found: %s').toString('hex'),
    '00000001 0000002c',
    Buffer.from("no domain with matching name 'rpccap-nosuch'").toString('hex'),
    '00000000',
    'ffffffff ffffffff',
    '00000000',
  ].join(''),
);

test('the NO_DOMAIN error reply is byte for byte the 212 bytes libvirtd sends', () => {
  assert.equal(NO_DOMAIN_REPLY.length, 212);
  const err = virtError(ErrorNumber.NO_DOMAIN, ErrorDomain.QEMU, "no domain with matching name 'rpccap-nosuch'");
  const frame = encodeMessage(
    { prog: REMOTE, vers: 1, proc: 23, type: MessageType.REPLY, serial: 6, status: MessageStatus.ERROR },
    NetMessageError,
    virtErrorToNetError(err),
  );
  assert.deepEqual(frame, NO_DOMAIN_REPLY);
});

test('an error body decodes to the VirtError the server raised, every field', () => {
  const e = netErrorToVirtError(x.decode(NetMessageError, NO_DOMAIN_REPLY, 28));
  assert.ok(e instanceof VirtError);
  assert.equal(e.code, 42);
  assert.equal(e.domain, 10);
  assert.equal(e.message, "Domain not found: no domain with matching name 'rpccap-nosuch'");
  assert.equal(e.level, 2);
  assert.equal(e.str1, 'Domain not found: %s');
  assert.equal(e.str2, "no domain with matching name 'rpccap-nosuch'");
  assert.equal(e.str3, null);
  assert.equal(e.int1, -1);
  assert.equal(e.int2, -1);
});

test('a non-VirtError thrown by a handler goes out as an internal error, never a stack', () => {
  const ne = virtErrorToNetError(new TypeError('x is undefined'));
  assert.equal(ne.code, ErrorNumber.INTERNAL_ERROR);
  assert.equal(ne.message, 'internal error: x is undefined');
  assert.equal(ne.int1, -1);
});

test('DOMAIN_GET_INFO reply body is 32 bytes (uchar state and ushort nrVirtCpu take 4 each)', () => {
  const body = x.encode(P.DomainGetInfoRet, { state: 1, maxMem: 1048576n, memory: 1048576n, nrVirtCpu: 2, cpuTime: 123456789n });
  assert.equal(body.length, 32);
  assert.deepEqual(body.subarray(0, 4), hex('00000001'));
  assert.deepEqual(body.subarray(20, 24), hex('00000002'));
});

test('NODE_GET_SECURITY_MODEL reply carries "none\\0" as 5 chars of 4 bytes', () => {
  const body = x.encode(P.NodeGetSecurityModelRet, { model: Buffer.from('none\0'), doi: Buffer.from('0\0') });
  assert.deepEqual(
    body,
    hex('00000005 0000006e 0000006f 0000006e 00000065 00000000 | 00000002 00000030 00000000'),
  );
});

test('DOMAIN_LOOKUP_BY_NAME reply: Domain is name, raw 16-byte uuid, id', () => {
  const body = x.encode(P.DomainLookupByNameRet, { dom: { name: 'test', uuid: '6695eb01-f6a4-8304-79aa-97f2502e193f', id: 1 } });
  assert.deepEqual(body, hex('00000004 74657374 6695eb01f6a4830479aa97f2502e193f 00000001'));
});

test('event registration for all domains sends dom absent (flag 0)', () => {
  const body = x.encode(P.ConnectDomainEventCallbackRegisterAnyArgs, { eventID: 0, dom: null });
  assert.deepEqual(body, hex('00000000 00000000'));
});

test('typed parameters: field, then the type discriminant and its value', () => {
  const body = x.encode(P.TypedParam, { field: 'inbound.average', value: { type: 2, ui: 1000 } });
  assert.deepEqual(body, hex('0000000f' + Buffer.from('inbound.average').toString('hex') + '00' + '00000002 000003e8'));
});

// ---- frame reader ----

function frames(): { got: Buffer[]; reader: FrameReader } {
  const got: Buffer[] = [];
  return { got, reader: new FrameReader((f) => got.push(Buffer.from(f))) };
}

const ping = hex('0000001c 6b656570 00000001 00000001 00000002 00000000 00000000');

test('frame reader: byte by byte, and several frames in one chunk', () => {
  const { got, reader } = frames();
  const two = Buffer.concat([ping, NO_DOMAIN_REPLY]);
  for (const b of two) reader.push(Buffer.from([b]));
  assert.equal(got.length, 2);
  assert.deepEqual(got[0], ping.subarray(4));
  assert.deepEqual(got[1], NO_DOMAIN_REPLY.subarray(4));
  const { got: got2, reader: r2 } = frames();
  r2.push(Buffer.concat([two, ping.subarray(0, 10)]));
  assert.equal(got2.length, 2);
  assert.equal(r2.buffered, 10);
  r2.push(ping.subarray(10));
  assert.equal(got2.length, 3);
  assert.equal(r2.buffered, 0);
});

test('frame reader: length words below 28 are refused (libvirtd closes without a reply)', () => {
  for (const len of [0, 3, 4, 16, 27]) {
    const { reader } = frames();
    const w = Buffer.alloc(4);
    w.writeUInt32BE(len);
    assert.throws(() => reader.push(w), FrameError, String(len));
    assert.throws(() => reader.push(ping), /stopped/);
  }
});

test('frame reader: 33554436 is the largest length word; 33554437 is refused', () => {
  const { reader } = frames();
  const w = Buffer.alloc(8);
  w.writeUInt32BE(MESSAGE_MAX + 4);
  reader.push(w);
  // Nothing is allocated for the announced 32 MiB: only what arrived is held.
  assert.equal(reader.buffered, 8);
  const { reader: r2 } = frames();
  w.writeUInt32BE(MESSAGE_MAX + 5);
  assert.throws(() => r2.push(w), /too large/);
});

test('frame reader: a full 32 MiB frame arrives whole', () => {
  const { got, reader } = frames();
  const big = Buffer.alloc(MESSAGE_MAX + 4);
  big.writeUInt32BE(MESSAGE_MAX + 4);
  big.writeUInt32BE(REMOTE, 4);
  for (let off = 0; off < big.length; off += 65536) reader.push(big.subarray(off, off + 65536));
  assert.equal(got.length, 1);
  assert.equal(got[0]!.length, MESSAGE_MAX);
});

test('messages over the limit cannot be encoded', () => {
  assert.throws(
    () =>
      encodeMessage({ prog: REMOTE, vers: 1, proc: 1, type: 0, serial: 0, status: 0 }, x.opaque(), Buffer.alloc(MESSAGE_MAX)),
    /over the limit/,
  );
});
