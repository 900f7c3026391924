// Malformed RPC frames for the fuzz tests of the server core (test/remote) and of tsvirtd
// (test/daemon): the same seeded generator, so both see every kind of fault and each run sends
// the same frames.
import * as net from 'node:net';
import { encodeMessage, encodeRawMessage, MessageStatus, MessageType } from '../../src/rpc/message.js';
import * as P from '../../src/remote/protocol.js';

/** xorshift32: the same frames every run. */
export function rng(seed: number) {
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
export type Rng = ReturnType<typeof rng>;

const REMOTE = P.REMOTE_PROGRAM;
const calls = P.procedures.filter((p): p is P.ProcedureInfo => !!p && !p.message && p.proc !== P.Procedure.CONNECT_CLOSE);

/** CONNECT_OPEN of `name`, serial 0. */
export const connectOpenFrame = (name: string): Buffer =>
  encodeMessage({ prog: REMOTE, vers: 1, proc: P.Procedure.CONNECT_OPEN, type: MessageType.CALL, serial: 0, status: MessageStatus.OK }, P.ConnectOpenArgs, { name, flags: 0 });

/** A frame with a right length word and wrong content: answered with an error, connection kept. */
export function contentFrame(r: Rng, serial: number): Buffer {
  const proc = calls[r.int(calls.length)]!.proc;
  const h = { prog: REMOTE, vers: 1, proc, type: MessageType.CALL, serial, status: MessageStatus.OK };
  switch (r.int(8)) {
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
    case 6: {
      // a string argument whose length says 4 MiB + 1 (over REMOTE_STRING_MAX)
      const b = Buffer.alloc(8);
      b.writeUInt32BE(4194305, 0);
      return encodeRawMessage({ ...h, proc: P.Procedure.DOMAIN_DEFINE_XML }, b);
    }
    default: {
      // a valid argument struct truncated somewhere
      const full = encodeMessage({ ...h, proc: P.Procedure.DOMAIN_LOOKUP_BY_NAME }, P.DomainLookupByNameArgs, { name: `fuzz-${r.u32()}-${'n'.repeat(r.int(40))}` });
      const cut = 28 + r.int(full.length - 28);
      const f = Buffer.from(full.subarray(0, cut));
      f.writeUInt32BE(cut, 0);
      return f;
    }
  }
}

/** A frame that breaks the framing: the server drops the connection (or waits for more). */
export function framingFrame(r: Rng): Buffer {
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
    default: // a length word cut in the middle
      return Buffer.from([0, 0, 1].slice(0, 1 + r.int(3)));
  }
}

/**
 * Sends `frames` on a new connection to the unix socket `path`, then ends it (endAfter) or drops
 * it 50 ms later; resolves with the number of reply bytes once the connection is closed.
 */
export function sendFrames(path: string, frames: Buffer[], endAfter: boolean): Promise<number> {
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
