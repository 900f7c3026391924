// The RPC connection ends on their own, without a driver: the client's call timeouts and
// serial matching, and the server connection's keepalive (answering PINGs, pinging a client
// that asked for it, dropping one that stops answering).
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { test } from 'node:test';
import { ErrorNumber, VirtError } from '../../src/errors/index.js';
import { RpcClient, CloseReason } from '../../src/rpc/client.js';
import { FrameReader } from '../../src/rpc/frameReader.js';
import { PING_FRAME, PONG_FRAME } from '../../src/rpc/keepalive.js';
import { decodeHeader, encodeMessage, MessageStatus, MessageType } from '../../src/rpc/message.js';
import { ServerConnection } from '../../src/rpc/serverConnection.js';
import * as x from '../../src/rpc/xdr.js';

function pair(): Promise<[net.Socket, net.Socket, net.Server]> {
  return new Promise((resolve) => {
    const srv = net.createServer((s) => resolve([c, s, srv]));
    let c: net.Socket;
    srv.listen(0, '127.0.0.1', () => {
      c = net.connect((srv.address() as net.AddressInfo).port, '127.0.0.1');
    });
  });
}

test('client: replies are matched by serial in any order; a silent server times a call out', async () => {
  const [c, s, srv] = await pair();
  const client = new RpcClient(c);
  const seen: number[] = [];
  const reader = new FrameReader((f) => {
    const h = decodeHeader(f);
    seen.push(h.serial);
    // Answer serial 1 first, then 0; never answer serial 2.
    if (h.serial === 1) {
      s.write(encodeMessage({ ...h, type: MessageType.REPLY, status: MessageStatus.OK }, x.int, 11));
    }
    if (seen.length === 2) {
      s.write(encodeMessage({ prog: h.prog, vers: 1, proc: h.proc, type: 1, serial: 0, status: 0 }, x.int, 10));
    }
  });
  s.on('data', (d) => reader.push(d));
  const a = client.call(0x20008086, 1, 3, x.xdrVoid, undefined, x.int);
  const b = client.call(0x20008086, 1, 3, x.xdrVoid, undefined, x.int);
  assert.deepEqual(await Promise.all([a, b]), [10, 11]);
  await assert.rejects(client.call(0x20008086, 1, 4, x.xdrVoid, undefined, x.int, { timeout: 50, name: 'CONNECT_GET_VERSION' }), (e: unknown) => {
    assert.ok(e instanceof VirtError);
    assert.equal(e.code, ErrorNumber.OPERATION_TIMEOUT);
    assert.equal(e.message, 'Timed out during operation: no reply to CONNECT_GET_VERSION within 50 ms');
    return true;
  });
  assert.deepEqual(seen, [0, 1, 2]);
  // The server hangs up: calls in flight fail with libvirt's EOF text, the close reason is EOF.
  const closed = new Promise<number>((r) => client.once('close', r));
  const pending = client.call(0x20008086, 1, 3, x.xdrVoid, undefined, x.int);
  await new Promise((r) => setTimeout(r, 20));
  s.end();
  await assert.rejects(pending, /End of file while reading data: Input\/output error/);
  assert.equal(await closed, CloseReason.EOF);
  srv.close();
});

test('client: answers PINGs with PONGs; its own keepalive declares a silent server dead', async () => {
  const [c, s, srv] = await pair();
  const client = new RpcClient(c);
  const got: Buffer[] = [];
  s.on('data', (d) => got.push(d));
  s.write(PING_FRAME);
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(Buffer.concat(got), PONG_FRAME);
  got.length = 0;
  const closed = new Promise<number>((r) => client.once('close', r));
  client.startKeepAlive(0.05, 2);
  assert.equal(await closed, CloseReason.KEEPALIVE);
  // Two PINGs went out before it gave up.
  assert.deepEqual(Buffer.concat(got), Buffer.concat([PING_FRAME, PING_FRAME]));
  srv.close();
});

test('server connection: pings a client that asked, drops it when it stops answering', async () => {
  const [c, s, srv] = await pair();
  const conn = new ServerConnection(s, { keepaliveInterval: 0.05, keepaliveCount: 3 });
  const got: Buffer[] = [];
  c.on('data', (d) => got.push(d));
  // A PING is answered whether or not keepalive was negotiated.
  c.write(PING_FRAME);
  await new Promise((r) => setTimeout(r, 30));
  assert.deepEqual(Buffer.concat(got), PONG_FRAME);
  got.length = 0;
  const reason = new Promise<string>((r) => conn.once('close', r));
  conn.startKeepAlive();
  // Answering its PINGs keeps the connection up…
  const answer = setInterval(() => c.write(PONG_FRAME), 20);
  await new Promise((r) => setTimeout(r, 300));
  clearInterval(answer);
  assert.equal(conn.isClosed, false);
  // …silence closes it after `count` unanswered PINGs.
  assert.equal(await reason, 'keepalive timeout');
  const pings = Buffer.concat(got);
  assert.ok(pings.length >= 3 * 28 && pings.length % 28 === 0);
  srv.close();
  c.destroy();
});

test('client: a reply it cannot decode, or with an unknown status, fails that call naming its procedure', async () => {
  const [c, s, srv] = await pair();
  const client = new RpcClient(c);
  const reader = new FrameReader((f) => {
    const h = decodeHeader(f);
    // Serial 0 gets an empty body where an int is due; serial 1 a status no reply has.
    const status = h.serial === 0 ? MessageStatus.OK : 7;
    s.write(encodeMessage({ ...h, type: MessageType.REPLY, status }, x.xdrVoid, undefined));
  });
  s.on('data', (d) => reader.push(d));
  await assert.rejects(client.call(0x20008086, 1, 4, x.xdrVoid, undefined, x.int, { name: 'CONNECT_GET_VERSION' }), (e: unknown) => {
    assert.ok(e instanceof VirtError);
    assert.equal(e.code, ErrorNumber.RPC);
    assert.match(e.message, /^Unable to decode message payload of the reply to CONNECT_GET_VERSION: need 4 bytes/);
    assert.equal(e.fault.object, 'CONNECT_GET_VERSION');
    return true;
  });
  // Without a name the procedure number stands in.
  await assert.rejects(client.call(0x20008086, 1, 4, x.xdrVoid, undefined, x.int), (e: unknown) => {
    assert.ok(e instanceof VirtError);
    assert.equal(e.message, 'Unexpected message status 7 in the reply to procedure 4');
    return true;
  });
  assert.equal(client.isOpen, true);
  client.close();
  srv.close();
});
