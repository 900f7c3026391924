// Robustness of tsvirtd itself (the process, not only its server core): ≥ 10 000 malformed
// frames — random bytes, truncations, wrong length words, wrong program/version/type/status,
// unknown procedures, huge counts and random argument bytes for every procedure, before and
// after CONNECT_OPEN, on the read-write and read-only sockets — then the daemon is alive,
// answers a valid call, logged no unexpected failure, holds no stray clients, and its memory
// stayed bounded.
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { encodeMessage, encodeRawMessage, MessageStatus, MessageType } from '../../src/rpc/message.js';
import * as P from '../../src/remote/protocol.js';
import { RemoteDriver } from '../../src/remote/remoteDriver.js';
import { isRoot } from '../helpers/system.js';
import { startTsvirtd, type RunningTsvirtd } from './tsvirtd.js';

const FRAMES = Number(process.env.TSVIRT_FUZZ_FRAMES ?? 12000);
const REMOTE = P.REMOTE_PROGRAM;
const calls = P.procedures.filter((p): p is P.ProcedureInfo => !!p && !p.message && p.proc !== P.Procedure.CONNECT_CLOSE);

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
type Rng = ReturnType<typeof rng>;

/** A frame with a right length word and wrong content: answered with an error, connection kept. */
function contentFrame(r: Rng, serial: number): Buffer {
  const proc = calls[r.int(calls.length)]!.proc;
  const h = { prog: REMOTE, vers: 1, proc, type: MessageType.CALL, serial, status: MessageStatus.OK };
  switch (r.int(8)) {
    case 0:
      return encodeRawMessage(h, r.bytes(r.int(200)));
    case 1: // huge counts and lengths where arrays and strings start
      return encodeRawMessage(h, Buffer.from([0xff, 0xff, 0xff, r.int(256), 0x7f, 0xff, 0xff, 0xff, ...r.bytes(r.int(16))]));
    case 2:
      return encodeRawMessage({ ...h, prog: r.int(2) ? r.u32() : REMOTE, vers: r.int(5) }, r.bytes(r.int(32)));
    case 3:
      return encodeRawMessage({ ...h, type: [1, 2, 3, 5, 6, 7, -1, r.u32() | 0][r.int(8)]! }, r.bytes(r.int(32)));
    case 4:
      return encodeRawMessage({ ...h, status: 1 + r.int(5) }, r.bytes(r.int(16)));
    case 5:
      return encodeRawMessage({ ...h, proc: [0, -1, 444 + r.int(10000), r.u32() | 0][r.int(4)]! }, r.bytes(r.int(16)));
    case 6: {
      // a string argument whose length says 4 MiB + 1 (over REMOTE_STRING_MAX)
      const b = Buffer.alloc(8);
      b.writeUInt32BE(4194305, 0);
      return encodeRawMessage({ ...h, proc: P.Procedure.DOMAIN_DEFINE_XML }, b);
    }
    default: {
      const full = encodeMessage({ ...h, proc: P.Procedure.DOMAIN_LOOKUP_BY_NAME }, P.DomainLookupByNameArgs, { name: `fuzz-${r.u32()}-${'n'.repeat(r.int(40))}` });
      const cut = 28 + r.int(full.length - 28);
      const f = Buffer.from(full.subarray(0, cut));
      f.writeUInt32BE(cut, 0);
      return f;
    }
  }
}

/** A frame that breaks the framing: the daemon drops that connection. */
function framingFrame(r: Rng): Buffer {
  switch (r.int(4)) {
    case 0:
      return r.bytes(1 + r.int(300));
    case 1: {
      const b = Buffer.alloc(4 + r.int(40));
      b.writeUInt32BE([0, 1, 3, 4, 16, 27, 33554437, 0xffffffff, 0x80000000][r.int(9)]!, 0);
      return b;
    }
    case 2: {
      const body = r.bytes(24 + r.int(100));
      const b = Buffer.alloc(4);
      b.writeUInt32BE(28 + body.length + 1 + r.int(1000));
      return Buffer.concat([b, body]);
    }
    default:
      return Buffer.from([0, 0, 1].slice(0, 1 + r.int(3)));
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

const OPEN = (name: string) => encodeMessage({ prog: REMOTE, vers: 1, proc: 1, type: 0, serial: 0, status: 0 }, P.ConnectOpenArgs, { name, flags: 0 });

describe('fuzzing tsvirtd', { skip: isRoot ? false : 'needs root' }, () => {
  let d: RunningTsvirtd;
  before(async () => {
    d = await startTsvirtd({ tag: 'fuzz' });
  });
  after(async () => {
    await d?.stop();
  });

  test(`${FRAMES} malformed frames: alive, a valid call answers, memory bounded`, { timeout: 600000 }, async () => {
    const r = rng(20261123);
    let sent = 0;
    let replyBytes = 0;
    const round = async () => {
      const breakers = Array.from({ length: 10 }, () => framingFrame(r));
      await Promise.all(breakers.map((f) => send(r.int(4) ? d.socket : d.roSocket!, [f], r.int(2) === 0)));
      sent += breakers.length;
      const batch: Buffer[] = [];
      const which = r.int(3);
      if (which === 1) batch.push(OPEN('test:///default'));
      if (which === 2) batch.push(OPEN('qemu:///system'));
      for (let i = 0; i < 90; i++) batch.push(contentFrame(r, i + 1));
      replyBytes += await send(r.int(4) ? d.socket : d.roSocket!, batch, true);
      sent += 90;
    };
    // Warm up (code compiled, QEMU driver state loaded), then take the baseline.
    for (let i = 0; i < 5; i++) await round();
    const rssBefore = d.rssKiB();
    while (sent < FRAMES) await round();
    assert.ok(sent >= FRAMES);
    assert.ok(replyBytes > 0, 'the framing-intact faults were answered');
    assert.equal(d.proc.exitCode, null, 'tsvirtd is alive');
    // A valid client gets its answers, on both drivers.
    const t = await RemoteDriver.open(d.uri('test', '/default'));
    assert.equal(await t.getType(), 'TEST');
    assert.equal((await t.domainLookupByName('test')).name, 'test');
    await t.close();
    const q = await RemoteDriver.open(d.uri('qemu', '/system'));
    assert.equal(await q.getType(), 'QEMU');
    await q.close();
    const rssAfter = d.rssKiB();
    process.stdout.write(`# ${sent} frames; tsvirtd RSS ${(rssBefore / 1024).toFixed(1)} MiB before, ${(rssAfter / 1024).toFixed(1)} MiB after\n`);
    assert.ok(rssAfter - rssBefore < 48 * 1024, `RSS grew by ${((rssAfter - rssBefore) / 1024).toFixed(1)} MiB`);
    const log = d.log();
    assert.ok((log.match(/too (small|large)/g) ?? []).length > 100, 'bad length words were seen');
    assert.deepEqual(log.split('\n').filter((l) => / error : /.test(l)), [], 'no unexpected failure logged');
  });
});
