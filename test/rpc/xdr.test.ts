// The XDR schema form against exact bytes: the rpcgen construct matrix (as libvirt's
// scripts/rpcgen/tests do) and strict decoding at every limit.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import * as x from '../../src/rpc/xdr.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/[\s|]/g, ''), 'hex');
const bytes = <T>(c: x.Codec<T>, v: T): string => x.encode(c, v).toString('hex');

test('integers: int, unsigned int, hyper, unsigned hyper, big-endian', () => {
  assert.equal(bytes(x.int, -1), 'ffffffff');
  assert.equal(bytes(x.int, 0x12345678), '12345678');
  assert.equal(bytes(x.uint, 0xfffffffe), 'fffffffe');
  assert.equal(bytes(x.hyper, -2n), 'fffffffffffffffe');
  assert.equal(bytes(x.uhyper, 0xffffffffffffffffn), 'ffffffffffffffff');
  assert.equal(bytes(x.uhyper, 7002022n), '00000000006ad7a6');
  assert.equal(x.decode(x.hyper, hex('8000000000000000')), -0x8000000000000000n);
  assert.throws(() => x.encode(x.int, 0x80000000), x.XdrError);
  assert.throws(() => x.encode(x.uint, -1), x.XdrError);
  assert.throws(() => x.encode(x.uhyper, -1n), x.XdrError);
});

test('bool, double, float', () => {
  assert.equal(bytes(x.bool, true), '00000001');
  assert.equal(bytes(x.bool, false), '00000000');
  assert.equal(bytes(x.double, 1.5), '3ff8000000000000');
  assert.equal(bytes(x.float, 1.5), '3fc00000');
  assert.throws(() => x.decode(x.bool, hex('00000002')), /bool must be 0 or 1/);
});

test('char, unsigned char, short, unsigned short are 4 bytes each (trap 1)', () => {
  assert.equal(bytes(x.char, -1), 'ffffffff');
  assert.equal(bytes(x.uchar, 255), '000000ff');
  assert.equal(bytes(x.short, -2), 'fffffffe');
  assert.equal(bytes(x.ushort, 0xffff), '0000ffff');
  assert.equal(x.decode(x.uchar, hex('00000005')), 5);
});

test('string<max>: length, bytes, zero padding to 4', () => {
  assert.equal(bytes(x.string(), ''), '00000000');
  assert.equal(bytes(x.string(), 'a'), '00000001' + '61000000');
  assert.equal(bytes(x.string(), 'ab'), '00000002' + '61620000');
  assert.equal(bytes(x.string(), 'abc'), '00000003' + '61626300');
  assert.equal(bytes(x.string(), 'abcd'), '00000004' + '61626364');
  assert.equal(bytes(x.string(), 'é'), '00000002' + 'c3a90000');
  assert.equal(x.decode(x.string(10), hex('00000003 61626300')), 'abc');
});

test('opaque[n] has no length word; opaque<max> has one', () => {
  assert.equal(bytes(x.opaqueFixed(5), Buffer.from('0102030405', 'hex')), '0102030405000000');
  assert.equal(bytes(x.opaqueFixed(4), Buffer.from('01020304', 'hex')), '01020304');
  assert.equal(bytes(x.opaque(), Buffer.from('0102', 'hex')), '00000002' + '01020000');
  assert.deepEqual(x.decode(x.opaqueFixed(3), hex('0a0b0c00')), Buffer.from('0a0b0c', 'hex'));
  assert.throws(() => x.encode(x.opaqueFixed(4), Buffer.alloc(3)), x.XdrError);
});

test('uuid is opaque[16] on the wire and canonical text in JavaScript', () => {
  const u = '6695eb01-f6a4-8304-79aa-97f2502e193f';
  assert.equal(bytes(x.uuid, u), '6695eb01f6a4830479aa97f2502e193f');
  assert.equal(x.decode(x.uuid, hex('6695eb01f6a4830479aa97f2502e193f')), u);
  assert.throws(() => x.encode(x.uuid, 'not-a-uuid'), /not a UUID/);
});

test('fixed arrays: elements back to back; variable arrays: count first', () => {
  assert.equal(bytes(x.fixedArray(x.int, 3), [1, 2, 3]), '00000001' + '00000002' + '00000003');
  assert.equal(bytes(x.array(x.int, 10), [1, 2]), '00000002' + '00000001' + '00000002');
  assert.equal(bytes(x.array(x.string(), 10), ['a', 'bc']), '00000002' + '00000001' + '61000000' + '00000002' + '62630000');
  assert.deepEqual(x.decode(x.array(x.int), hex('00000000')), []);
  assert.throws(() => x.encode(x.fixedArray(x.int, 2), [1]), /fixed array of 2/);
});

test('char arrays: one 4-byte int per char, C strings with their NUL', () => {
  // NODE_GET_SECURITY_MODEL's model "none\0": count 5 and 5 × 4 bytes.
  const model = Buffer.from('none\0');
  assert.equal(bytes(x.charArray(257), model), '00000005' + '0000006e' + '0000006f' + '0000006e' + '00000065' + '00000000');
  // A high byte is a negative char on the wire (rpcgen's char is signed) and the same byte back.
  assert.equal(bytes(x.charArray(4), Buffer.from([0xc3])), '00000001' + 'ffffffc3');
  assert.deepEqual(x.decode(x.charArray(4), hex('00000001 ffffffc3')), Buffer.from([0xc3]));
  assert.equal(bytes(x.charFixed(3), Buffer.from('ab')), '00000061' + '00000062' + '00000000');
});

test('optional: flag 0 and nothing, or flag 1 and the value', () => {
  const c = x.optional(x.string());
  assert.equal(bytes(c, null), '00000000');
  assert.equal(bytes(c, 'x'), '00000001' + '00000001' + '78000000');
  assert.equal(x.decode(c, hex('00000000')), null);
  assert.throws(() => x.decode(c, hex('00000002')), /optional flag/);
});

test('struct: fields in order', () => {
  interface S {
    a: number;
    b: string;
    c: bigint;
  }
  const S = x.struct<S>([
    ['a', x.int],
    ['b', x.string(8)],
    ['c', x.uhyper],
  ]);
  assert.equal(bytes(S, { a: 1, b: 'hi', c: 2n }), '00000001' + '00000002' + '68690000' + '0000000000000002');
  assert.deepEqual(x.decode(S, hex('00000001 00000002 68690000 0000000000000002')), { a: 1, b: 'hi', c: 2n });
  assert.throws(() => x.encode(S, { a: 1, b: 'hi' } as unknown as S), /field 'c' missing/);
});

test('union with arms, a void arm and no default refuses unknown discriminants', () => {
  type U = { type: 1; i: number } | { type: 7; s: string } | { type: 9 };
  const U = x.union<U>(
    'type',
    new Map<number, x.Arm>([
      [1, ['i', x.int]],
      [7, ['s', x.string()]],
      [9, null],
    ]),
  );
  assert.equal(bytes(U, { type: 1, i: -1 }), '00000001' + 'ffffffff');
  assert.equal(bytes(U, { type: 7, s: 'ab' }), '00000007' + '00000002' + '61620000');
  assert.equal(bytes(U, { type: 9 }), '00000009');
  assert.deepEqual(x.decode(U, hex('00000007 00000001 7a000000')), { type: 7, s: 'z' });
  assert.throws(() => x.decode(U, hex('00000003 00000000')), /no arm/);
});

test('union with a default arm', () => {
  type U = { d: number; v?: number; other?: string };
  const U = x.union<U>('d', new Map<number, x.Arm>([[0, ['v', x.int]]]), ['other', x.string()]);
  assert.equal(bytes(U, { d: 5, other: 'q' }), '00000005' + '00000001' + '71000000');
  assert.deepEqual(x.decode(U, hex('00000005 00000001 71000000')), { d: 5, other: 'q' });
});

test('strict decoding: over-long strings and arrays are refused at their limits', () => {
  assert.throws(() => x.decode(x.string(3), hex('00000004 61626364')), /string length 4 over its limit 3/);
  assert.throws(() => x.decode(x.array(x.int, 1), hex('00000002 00000001 00000002')), /array length 2 over its limit 1/);
  assert.throws(() => x.decode(x.opaque(2), hex('00000003 01020300')), /over its limit/);
  assert.throws(() => x.encode(x.string(3), 'abcd'), /over its limit/);
  assert.throws(() => x.encode(x.array(x.int, 1), [1, 2]), /over its limit/);
});

test('strict decoding: every length is checked against the bytes that are there', () => {
  // A count of 2^32-1 with a few bytes behind it is refused before anything is allocated.
  assert.throws(() => x.decode(x.array(x.int), hex('ffffffff 00000001')), /need/);
  assert.throws(() => x.decode(x.array(x.string()), hex('7fffffff')), /need/);
  assert.throws(() => x.decode(x.string(), hex('00000010 6162')), /need/);
  assert.throws(() => x.decode(x.int, hex('000000')), /need 4 bytes/);
  assert.throws(() => x.decode(x.uhyper, hex('00000000 000000')), /need 8 bytes/);
  assert.throws(() => x.decode(x.opaqueFixed(16), hex('00')), /need/);
  // The end bound is the frame's, not the buffer's.
  assert.throws(() => x.decode(x.int, hex('00000001 00000002'), 4, 6), /need/);
  // Extra bytes are allowed unless exactness is asked for.
  assert.equal(x.decode(x.int, hex('00000001 00000002')), 1);
  assert.throws(() => x.decode(x.int, hex('00000001 00000002'), 0, 8, true), /left over/);
});

test('round trip of a composite value (property)', () => {
  interface Rec {
    n: number;
    s: string;
    o: string | null;
    a: number[];
    h: bigint;
    b: Buffer;
  }
  const Rec = x.struct<Rec>([
    ['n', x.int],
    ['s', x.string(100)],
    ['o', x.optional(x.string(100))],
    ['a', x.array(x.uint, 20)],
    ['h', x.hyper],
    ['b', x.opaque(64)],
  ]);
  fc.assert(
    fc.property(
      fc.record({
        n: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
        s: fc.string({ maxLength: 30 }),
        o: fc.option(fc.string({ maxLength: 30 }), { nil: null }),
        a: fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 20 }),
        h: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
        b: fc.uint8Array({ maxLength: 64 }).map((u) => Buffer.from(u)),
      }),
      (v) => {
        const buf = x.encode(Rec, v);
        assert.equal(buf.length % 4, 0);
        assert.equal(buf.length, Rec.size(v));
        assert.deepEqual(x.decode(Rec, buf, 0, buf.length, true), { ...v });
      },
    ),
  );
});

test('decoding random bytes never throws anything but XdrError', () => {
  const S = x.struct<unknown>([
    ['a', x.array(x.string(50), 10)],
    ['b', x.optional(x.uuid)],
    ['c', x.charArray(20)],
  ]);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (u) => {
      try {
        x.decode(S, Buffer.from(u));
      } catch (err) {
        assert.ok(err instanceof x.XdrError, String(err));
      }
    }),
    { numRuns: 2000 },
  );
});
