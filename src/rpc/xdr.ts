// XDR (RFC 4506) as libvirt's rpcgen uses it, in one declarative form: every type is a Codec
// that sizes, encodes and decodes itself, and structs/unions/arrays compose from the primitives
// (the compact-encoding shape). Encoding is two passes: size() totals the bytes, the caller
// allocates once, encode() writes. Decoding checks every length against the end of the
// buffer before it reads or allocates, and refuses strings and arrays over their declared max.
//
// Traps kept here so no caller can get them wrong: char/short are 4 bytes on the wire, also as
// array elements (rpcgen encodes every char as an int); opaque data and strings pad to 4.

/** A cursor over one message buffer; `end` bounds every read. */
export interface XdrState {
  buf: Buffer;
  pos: number;
  end: number;
}

export interface Codec<T> {
  /** Bytes encode() will write for v. */
  size(v: T): number;
  encode(s: XdrState, v: T): void;
  decode(s: XdrState): T;
  /** The encoded size when it does not depend on the value, else -1. */
  readonly fixed: number;
}

/** Malformed or over-limit XDR; `reason` says what, for logs and tests. */
export class XdrError extends Error {
  override get name(): string {
    return 'XdrError';
  }
}

const pad4 = (n: number): number => (4 - (n & 3)) & 3;

function need(s: XdrState, n: number): void {
  if (n > s.end - s.pos) throw new XdrError(`need ${n} bytes at offset ${s.pos}, have ${s.end - s.pos}`);
}

function fixedCodec<T>(fixed: number, encode: (s: XdrState, v: T) => void, decode: (s: XdrState) => T): Codec<T> {
  return { fixed, size: () => fixed, encode, decode };
}

export const int: Codec<number> = fixedCodec(
  4,
  (s, v) => {
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) throw new XdrError(`int out of range: ${v}`);
    s.buf.writeInt32BE(v, s.pos);
    s.pos += 4;
  },
  (s) => {
    need(s, 4);
    const v = s.buf.readInt32BE(s.pos);
    s.pos += 4;
    return v;
  },
);

export const uint: Codec<number> = fixedCodec(
  4,
  (s, v) => {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new XdrError(`unsigned int out of range: ${v}`);
    s.buf.writeUInt32BE(v, s.pos);
    s.pos += 4;
  },
  (s) => {
    need(s, 4);
    const v = s.buf.readUInt32BE(s.pos);
    s.pos += 4;
    return v;
  },
);

/** XDR `enum`: an int on the wire; rpcgen does not check the value against the members. */
export const enumeration = int;

function toBigInt(v: bigint | number, what: string): bigint {
  if (typeof v === 'bigint') return v;
  if (!Number.isInteger(v)) throw new XdrError(`${what} not an integer: ${v}`);
  return BigInt(v);
}

export const hyper: Codec<bigint> = fixedCodec(
  8,
  (s, v) => {
    const b = toBigInt(v, 'hyper');
    if (b < -0x8000000000000000n || b > 0x7fffffffffffffffn) throw new XdrError(`hyper out of range: ${b}`);
    s.buf.writeBigInt64BE(b, s.pos);
    s.pos += 8;
  },
  (s) => {
    need(s, 8);
    const v = s.buf.readBigInt64BE(s.pos);
    s.pos += 8;
    return v;
  },
);

export const uhyper: Codec<bigint> = fixedCodec(
  8,
  (s, v) => {
    const b = toBigInt(v, 'unsigned hyper');
    if (b < 0n || b > 0xffffffffffffffffn) throw new XdrError(`unsigned hyper out of range: ${b}`);
    s.buf.writeBigUInt64BE(b, s.pos);
    s.pos += 8;
  },
  (s) => {
    need(s, 8);
    const v = s.buf.readBigUInt64BE(s.pos);
    s.pos += 8;
    return v;
  },
);

export const bool: Codec<boolean> = fixedCodec(
  4,
  (s, v) => {
    s.buf.writeUInt32BE(v ? 1 : 0, s.pos);
    s.pos += 4;
  },
  (s) => {
    need(s, 4);
    const v = s.buf.readUInt32BE(s.pos);
    if (v > 1) throw new XdrError(`bool must be 0 or 1, got ${v}`);
    s.pos += 4;
    return v === 1;
  },
);

export const double: Codec<number> = fixedCodec(
  8,
  (s, v) => {
    s.buf.writeDoubleBE(v, s.pos);
    s.pos += 8;
  },
  (s) => {
    need(s, 8);
    const v = s.buf.readDoubleBE(s.pos);
    s.pos += 8;
    return v;
  },
);

export const float: Codec<number> = fixedCodec(
  4,
  (s, v) => {
    s.buf.writeFloatBE(v, s.pos);
    s.pos += 4;
  },
  (s) => {
    need(s, 4);
    const v = s.buf.readFloatBE(s.pos);
    s.pos += 4;
    return v;
  },
);

/** rpcgen's char: a 4-byte int holding -128..127 (a byte's value is kept as it is truncated). */
export const char: Codec<number> = fixedCodec(
  4,
  (s, v) => {
    s.buf.writeInt32BE((v << 24) >> 24, s.pos);
    s.pos += 4;
  },
  (s) => (int.decode(s) << 24) >> 24,
);
export const uchar: Codec<number> = fixedCodec(
  4,
  (s, v) => {
    s.buf.writeUInt32BE(v & 0xff, s.pos);
    s.pos += 4;
  },
  (s) => uint.decode(s) & 0xff,
);
export const short: Codec<number> = fixedCodec(
  4,
  (s, v) => {
    s.buf.writeInt32BE((v << 16) >> 16, s.pos);
    s.pos += 4;
  },
  (s) => (int.decode(s) << 16) >> 16,
);
export const ushort: Codec<number> = fixedCodec(
  4,
  (s, v) => {
    s.buf.writeUInt32BE(v & 0xffff, s.pos);
    s.pos += 4;
  },
  (s) => uint.decode(s) & 0xffff,
);

/** An empty body (`void`). */
export const xdrVoid: Codec<void> = fixedCodec(
  0,
  () => {},
  () => undefined,
);

function readLength(s: XdrState, max: number, what: string, unit: number): number {
  need(s, 4);
  const n = s.buf.readUInt32BE(s.pos);
  if (n > max) throw new XdrError(`${what} length ${n} over its limit ${max}`);
  s.pos += 4;
  // Refuse before allocating: the elements cannot fit in what is left of the frame.
  need(s, n * unit);
  return n;
}

/** string<max>: length, UTF-8 bytes, padding. */
export function string(max = 0xffffffff): Codec<string> {
  return {
    fixed: -1,
    size(v) {
      const n = Buffer.byteLength(v, 'utf8');
      return 4 + n + pad4(n);
    },
    encode(s, v) {
      if (typeof v !== 'string') throw new XdrError(`not a string: ${v}`);
      // One pass: write the bytes, then the length in front of them.
      const n = s.buf.write(v, s.pos + 4, 'utf8');
      if (n > max) throw new XdrError(`string length ${n} over its limit ${max}`);
      s.buf.writeUInt32BE(n, s.pos);
      s.pos += 4 + n;
      for (let p = pad4(n); p > 0; p--) s.buf[s.pos++] = 0;
    },
    decode(s) {
      const n = readLength(s, max, 'string', 1);
      const padded = n + pad4(n);
      need(s, padded);
      const v = s.buf.toString('utf8', s.pos, s.pos + n);
      s.pos += padded;
      return v;
    },
  };
}

/** opaque[n]: n bytes and padding, no length word. The decoded Buffer is a copy. */
export function opaqueFixed(n: number): Codec<Buffer> {
  const total = n + pad4(n);
  return fixedCodec(
    total,
    (s, v) => {
      if (v.length !== n) throw new XdrError(`opaque[${n}] given ${v.length} bytes`);
      v.copy(s.buf, s.pos);
      s.buf.fill(0, s.pos + n, s.pos + total);
      s.pos += total;
    },
    (s) => {
      need(s, total);
      const v = Buffer.from(s.buf.subarray(s.pos, s.pos + n));
      s.pos += total;
      return v;
    },
  );
}

/** opaque<max>: length, bytes, padding. The decoded Buffer is a copy. */
export function opaque(max = 0xffffffff): Codec<Buffer> {
  return {
    fixed: -1,
    size: (v) => 4 + v.length + pad4(v.length),
    encode(s, v) {
      if (v.length > max) throw new XdrError(`opaque length ${v.length} over its limit ${max}`);
      s.buf.writeUInt32BE(v.length, s.pos);
      v.copy(s.buf, s.pos + 4);
      s.pos += 4 + v.length;
      for (let p = pad4(v.length); p > 0; p--) s.buf[s.pos++] = 0;
    },
    decode(s) {
      const n = readLength(s, max, 'opaque', 1);
      need(s, n + pad4(n));
      const v = Buffer.from(s.buf.subarray(s.pos, s.pos + n));
      s.pos += n + pad4(n);
      return v;
    },
  };
}

const HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX_VALUE['0123456789abcdef'.charCodeAt(i)] = i;
  HEX_VALUE['0123456789ABCDEF'.charCodeAt(i)] = i;
}
const BYTE_HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Writes the 16 bytes of a UUID given as 32 hex digits with or without the four dashes. */
function writeUuid(buf: Buffer, pos: number, v: string): void {
  const dashed = v.length === 36;
  if (!dashed && v.length !== 32) throw new XdrError(`not a UUID: '${v}'`);
  let j = 0;
  for (let i = 0; i < 16; i++) {
    if (dashed && (j === 8 || j === 13 || j === 18 || j === 23)) {
      if (v.charCodeAt(j) !== 45) throw new XdrError(`not a UUID: '${v}'`);
      j++;
    }
    const hi = HEX_VALUE[v.charCodeAt(j)] ?? -1;
    const lo = HEX_VALUE[v.charCodeAt(j + 1)] ?? -1;
    if (hi < 0 || lo < 0) throw new XdrError(`not a UUID: '${v}'`);
    buf[pos + i] = (hi << 4) | lo;
    j += 2;
  }
}

/** A UUID as opaque[16] on the wire and its canonical lowercase text in JavaScript. */
export const uuid: Codec<string> = fixedCodec(
  16,
  (s, v) => {
    if (typeof v !== 'string') throw new XdrError(`not a UUID: ${v}`);
    writeUuid(s.buf, s.pos, v);
    s.pos += 16;
  },
  (s) => {
    need(s, 16);
    const b = s.buf;
    const p = s.pos;
    s.pos += 16;
    let out = '';
    for (let i = 0; i < 16; i++) {
      if (i === 4 || i === 6 || i === 8 || i === 10) out += '-';
      out += BYTE_HEX[b[p + i]!];
    }
    return out;
  },
);

/** T[n]: n elements back to back. */
export function fixedArray<T>(elem: Codec<T>, n: number): Codec<T[]> {
  return {
    fixed: elem.fixed >= 0 ? elem.fixed * n : -1,
    size(v) {
      if (elem.fixed >= 0) return elem.fixed * n;
      let t = 0;
      for (const e of v) t += elem.size(e);
      return t;
    },
    encode(s, v) {
      if (v.length !== n) throw new XdrError(`fixed array of ${n} given ${v.length} elements`);
      for (const e of v) elem.encode(s, e);
    },
    decode(s) {
      need(s, n * Math.max(elem.fixed, 0));
      const out = new Array<T>(n);
      for (let i = 0; i < n; i++) out[i] = elem.decode(s);
      return out;
    },
  };
}

/** T<max>: a count, then the elements. */
export function array<T>(elem: Codec<T>, max = 0xffffffff): Codec<T[]> {
  // Every element takes at least 4 bytes except void/zero-size ones; used to refuse huge counts
  // before allocating the result.
  const minElem = elem.fixed >= 0 ? elem.fixed : 4;
  return {
    fixed: -1,
    size(v) {
      if (elem.fixed >= 0) return 4 + elem.fixed * v.length;
      let t = 4;
      for (const e of v) t += elem.size(e);
      return t;
    },
    encode(s, v) {
      if (v.length > max) throw new XdrError(`array length ${v.length} over its limit ${max}`);
      s.buf.writeUInt32BE(v.length, s.pos);
      s.pos += 4;
      for (const e of v) elem.encode(s, e);
    },
    decode(s) {
      const n = readLength(s, max, 'array', minElem);
      const out = new Array<T>(n);
      for (let i = 0; i < n; i++) out[i] = elem.decode(s);
      return out;
    },
  };
}

/**
 * char<max> / unsigned char<max> as rpcgen encodes them: a count and one 4-byte int per byte.
 * JavaScript sees the bytes; libvirt puts C strings (with their NUL) in such arrays.
 */
export function charArray(max = 0xffffffff, unsigned = false): Codec<Buffer> {
  return {
    fixed: -1,
    size: (v) => 4 + 4 * v.length,
    encode(s, v) {
      if (v.length > max) throw new XdrError(`char array length ${v.length} over its limit ${max}`);
      s.buf.writeUInt32BE(v.length, s.pos);
      s.pos += 4;
      for (const b of v) {
        s.buf.writeInt32BE(unsigned ? b : (b << 24) >> 24, s.pos);
        s.pos += 4;
      }
    },
    decode(s) {
      const n = readLength(s, max, 'char array', 4);
      const out = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i++, s.pos += 4) out[i] = s.buf.readInt32BE(s.pos) & 0xff;
      return out;
    },
  };
}

/** char[n]: n 4-byte ints, no count. */
export function charFixed(n: number, unsigned = false): Codec<Buffer> {
  return fixedCodec(
    4 * n,
    (s, v) => {
      if (v.length > n) throw new XdrError(`char[${n}] given ${v.length} bytes`);
      for (let i = 0; i < n; i++, s.pos += 4) {
        const b = i < v.length ? v[i]! : 0;
        s.buf.writeInt32BE(unsigned ? b : (b << 24) >> 24, s.pos);
      }
    },
    (s) => {
      need(s, 4 * n);
      const out = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i++, s.pos += 4) out[i] = s.buf.readInt32BE(s.pos) & 0xff;
      return out;
    },
  );
}

/** T *x: a 0/1 flag, then the value when present. null in JavaScript means absent. */
export function optional<T>(inner: Codec<T>): Codec<T | null> {
  return {
    fixed: -1,
    size: (v) => (v === null || v === undefined ? 4 : 4 + inner.size(v)),
    encode(s, v) {
      if (v === null || v === undefined) {
        s.buf.writeUInt32BE(0, s.pos);
        s.pos += 4;
      } else {
        s.buf.writeUInt32BE(1, s.pos);
        s.pos += 4;
        inner.encode(s, v);
      }
    },
    decode(s) {
      need(s, 4);
      const flag = s.buf.readUInt32BE(s.pos);
      if (flag > 1) throw new XdrError(`optional flag must be 0 or 1, got ${flag}`);
      s.pos += 4;
      return flag === 1 ? inner.decode(s) : null;
    },
  };
}

export type Field = readonly [name: string, codec: Codec<any>];

function missingField(name: string): never {
  throw new XdrError(`field '${name}' missing`);
}

/**
 * struct { ... }: the fields in order, as a plain object with the .x field names. The three
 * functions are compiled once per struct (straight-line code, object literals of one shape),
 * which keeps per-message cost low for lists of thousands of structs. They are compiled on first
 * use, and their source text is built only then: the remote program declares some 900 structs,
 * and a daemon uses a few dozen of them (start-up time and memory).
 */
export function struct<T>(fields: readonly Field[]): Codec<T> {
  let fixed = 0;
  for (const f of fields) {
    if (f[1].fixed < 0) {
      fixed = -1;
      break;
    }
    fixed += f[1].fixed;
  }
  const compile = (): void => {
    const prop = (i: number) => `v[${JSON.stringify(fields[i]![0])}]`;
    const sizeParts: string[] = [];
    let fixedPart = 0;
    fields.forEach((f, i) => {
      if (f[1].fixed >= 0) fixedPart += f[1].fixed;
      else sizeParts.push(`c[${i}].size(${prop(i)})`);
    });
    const encodeBody = fields
      .map((f, i) => {
        const check = f[1].fixed === 0 ? '' : `if (${prop(i)} === undefined) missing(${JSON.stringify(f[0])}); `;
        return `${check}c[${i}].encode(s, ${prop(i)});`;
      })
      .join('\n');
    const decodeBody = `return {${fields.map((f, i) => `${JSON.stringify(f[0])}: c[${i}].decode(s)`).join(', ')}};`;
    type Make = (c: Codec<any>[], missing: (n: string) => never, needFn: typeof need, fixed: number) => Codec<T>;
    const compiled = (
      new Function(
        'c',
        'missing',
        'need',
        'fixed',
        `return {
          fixed,
          size(v) { return ${fixed >= 0 ? fixed : [String(fixedPart), ...sizeParts].join(' + ')}; },
          encode(s, v) { ${encodeBody} },
          decode(s) { ${fixed > 0 ? 'need(s, fixed);' : ''} ${decodeBody} },
        };`,
      ) as Make
    )(
      fields.map((f) => f[1]),
      missingField,
      need,
      fixed,
    );
    codec.size = compiled.size;
    codec.encode = compiled.encode;
    codec.decode = compiled.decode;
  };
  const codec: Codec<T> = {
    fixed,
    size(v) {
      compile();
      return codec.size(v);
    },
    encode(s, v) {
      compile();
      codec.encode(s, v);
    },
    decode(s) {
      compile();
      return codec.decode(s);
    },
  };
  return codec;
}

/** One arm of a union: the field it fills, or null for `void`. */
export type Arm = readonly [name: string, codec: Codec<any>] | null;

/**
 * union switch (int <discriminant>) { case V: arm; ... default: arm; }. The JavaScript value is
 * `{ [discriminant]: V, [arm name]: value }`. An unknown discriminant without a default arm is
 * refused.
 */
export function union<T>(discriminant: string, arms: ReadonlyMap<number, Arm>, defaultArm?: Arm): Codec<T> {
  const armOf = (d: number): Arm => {
    const a = arms.get(d);
    if (a !== undefined) return a;
    if (defaultArm !== undefined) return defaultArm;
    throw new XdrError(`union ${discriminant} ${d} has no arm`);
  };
  return {
    fixed: -1,
    size(v) {
      const o = v as Record<string, unknown>;
      const a = armOf(o[discriminant] as number);
      return 4 + (a ? a[1].size(o[a[0]]) : 0);
    },
    encode(s, v) {
      const o = v as Record<string, unknown>;
      const d = o[discriminant] as number;
      const a = armOf(d);
      int.encode(s, d);
      if (a) a[1].encode(s, o[a[0]]);
    },
    decode(s) {
      const d = int.decode(s);
      const a = armOf(d);
      const o: Record<string, unknown> = { [discriminant]: d };
      if (a) o[a[0]] = a[1].decode(s);
      return o as T;
    },
  };
}

/** Encodes v alone into a fresh buffer of exactly its size. */
export function encode<T>(codec: Codec<T>, v: T): Buffer {
  const buf = Buffer.allocUnsafe(codec.size(v));
  const s = { buf, pos: 0, end: buf.length };
  codec.encode(s, v);
  return buf;
}

/**
 * Decodes buf[start, end) as one value. Bytes left over are allowed (libvirtd ignores extra
 * bytes after valid arguments) unless `exact` is set.
 */
export function decode<T>(codec: Codec<T>, buf: Buffer, start = 0, end = buf.length, exact = false): T {
  const s = { buf, pos: start, end };
  const v = codec.decode(s);
  if (exact && s.pos !== end) throw new XdrError(`${end - s.pos} bytes left over`);
  return v;
}
