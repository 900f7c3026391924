// Robustness: ≥ 10 000 malformed frames of every kind at tsvirtd's server core — random bytes,
// truncations, wrong lengths, wrong program/version/type/status, huge counts and random
// argument bytes for every procedure — and afterwards it answers a valid call, has not crashed,
// holds no leftover connections and its memory stayed bounded.
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { encodeMessage, encodeRawMessage, MessageStatus, MessageType } from '../../src/rpc/message.js';
import * as P from '../../src/remote/protocol.js';
import { RemoteDriver } from '../../src/remote/remoteDriver.js';
import { libvirtdSkipReason, startLibvirtd, type PrivateLibvirtd } from '../helpers/libvirtd.js';
import { startProxy, type Proxy } from './proxy.js';

const skip = libvirtdSkipReason();
const FRAMES = Number(process.env.TSVIRT_FUZZ_FRAMES ?? 12000);

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** xorshift32: the same frames every run. */
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
  return {
    u32: next,
    int: (n: number) => next() % n,
    bytes: (n: number) => {
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i++) b[i] = next() & 0xff;
      return b;
    },
  };
}

const REMOTE = P.REMOTE_PROGRAM;
const calls = P.procedures.filter((p): p is P.ProcedureInfo => !!p && !p.message && p.proc !== P.Procedure.CONNECT_CLOSE);

/** Frames that keep the framing intact (right length word): the connection must survive them. */
function contentFrame(r: ReturnType<typeof rng>, serial: number): Buffer {
  const kind = r.int(7);
  const proc = calls[r.int(calls.length)]!.proc;
  const h = { prog: REMOTE, vers: 1, proc, type: MessageType.CALL, serial, status: MessageStatus.OK };
  switch (kind) {
    case 0: // random argument bytes for a real procedure
      return encodeRawMessage(h, r.bytes(r.int(200)));
    case 1: // huge counts and lengths where arrays and strings start
      return encodeRawMessage(h, Buffer.from([0xff, 0xff, 0xff, r.int(256), 0x7f, 0xff, 0xff, 0xff, ...r.bytes(r.int(16))]));
    case 2: // wrong program / version
      return encodeRawMessage({ ...h, prog: r.int(2) ? r.u32() : REMOTE, vers: r.int(5) }, r.bytes(r.int(32)));
    case 3: // wrong type
      return encodeRawMessage({ ...h, type: [1, 2, 3, 5, 6, 7, -1, r.u32() | 0][r.int(8)]! }, r.bytes(r.int(32)));
    case 4: // wrong status
      return encodeRawMessage({ ...h, status: 1 + r.int(5) }, r.bytes(r.int(16)));
    case 5: // unknown procedure numbers
      return encodeRawMessage({ ...h, proc: [0, -1, 444 + r.int(10000), r.u32() | 0][r.int(4)]! }, r.bytes(r.int(16)));
    default: {
      // a valid argument struct truncated somewhere
      const full = encodeMessage(
        { ...h, proc: P.Procedure.DOMAIN_LOOKUP_BY_NAME },
        P.DomainLookupByNameArgs,
        { name: `fuzz-${r.u32()}-${'n'.repeat(r.int(40))}` },
      );
      const cut = 28 + r.int(full.length - 28);
      const f = Buffer.from(full.subarray(0, cut));
      f.writeUInt32BE(cut, 0);
      return f;
    }
  }
}

/** Frames that break the framing: the server drops the connection (or waits for more). */
function framingFrame(r: ReturnType<typeof rng>): Buffer {
  switch (r.int(4)) {
    case 0: // random bytes
      return r.bytes(1 + r.int(300));
    case 1: {
      // length word too small or too large
      const b = Buffer.alloc(4 + r.int(40));
      b.writeUInt32BE([0, 1, 3, 4, 16, 27, 33554437, 0xffffffff, 0x80000000][r.int(9)]!, 0);
      return b;
    }
    case 2: {
      // a length larger than what follows, then the peer hangs up (truncated frame)
      const body = r.bytes(24 + r.int(100));
      const b = Buffer.alloc(4);
      b.writeUInt32BE(28 + body.length + 1 + r.int(1000));
      return Buffer.concat([b, body]);
    }
    default: {
      // a length word cut in the middle
      return Buffer.from([0, 0, 1].slice(0, 1 + r.int(3)));
    }
  }
}

function send(path: string, frames: Buffer[], endAfter: boolean): Promise<number> {
  return new Promise((resolve) => {
    const s = net.connect({ path });
    let got = 0;
    s.on('data', (d) => (got += d.length));
    s.on('error', () => {});
    s.on('close', () => resolve(got));
    s.on('connect', () => {
      for (const f of frames) s.write(f);
      if (endAfter) s.end();
      else setTimeout(() => s.destroy(), 50);
    });
  });
}

describe('fuzzing the server core', { skip }, () => {
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

  test(`${FRAMES} malformed frames: no crash, a valid call answers, memory bounded`, async () => {
    const r = rng(20240917);
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    let sent = 0;
    let replyBytes = 0;
    while (sent < FRAMES) {
      // Framing breakers, each on a connection of its own.
      const breakers = Array.from({ length: 10 }, () => framingFrame(r));
      await Promise.all(breakers.map((f) => send(px.socket, [f], r.int(2) === 0)));
      sent += breakers.length;
      // A batch of content faults on one connection, some after CONNECT_OPEN.
      const batch: Buffer[] = [];
      if (r.int(2)) batch.push(encodeMessage({ prog: REMOTE, vers: 1, proc: 1, type: 0, serial: 0, status: 0 }, P.ConnectOpenArgs, { name: 'test:///default', flags: 0 }));
      for (let i = 0; i < 90; i++) batch.push(contentFrame(r, i + 1));
      replyBytes += await send(px.socket, batch, true);
      sent += 90;
    }
    assert.ok(sent >= FRAMES);
    // It answered the framing-intact faults with error replies.
    assert.ok(replyBytes > 0);
    // Every fuzzing connection is gone.
    const end = Date.now() + 5000;
    while (px.server.clients.size > 0 && Date.now() < end) await new Promise((res) => setTimeout(res, 20));
    assert.equal(px.server.clients.size, 0);
    // A valid client gets its answers.
    const d = await RemoteDriver.open(px.uri());
    assert.equal(await d.getType(), 'TEST');
    assert.equal((await d.domainLookupByName('test')).name, 'test');
    await d.close();
    gc();
    const grown = process.memoryUsage().heapUsed - heapBefore;
    assert.ok(grown < 32 * 1024 * 1024, `heap grew by ${(grown / 1048576).toFixed(1)} MiB`);
    // Bad length words were seen and logged as such.
    assert.ok(px.logs.filter((l) => /too (small|large)/.test(l)).length > 100);
    // Nothing the server logged is an unexpected failure (stack traces, cleanup errors).
    assert.deepEqual(px.logs.filter((l) => l.startsWith('error:')), []);
  });
});
