// UUIDs as libvirt parses, formats and generates them (viruuid.c). The raw 16-byte form is what
// the RPC protocol carries (remote_uuid).
import { randomBytes } from 'node:crypto';

export const UUID_LENGTH = 16;

const isSpace = (c: string): boolean => c === ' ' || (c >= '\t' && c <= '\r');
const HEX = /^[0-9a-fA-F]$/;

/**
 * virUUIDParse: 32 hex digits; '-' and ' ' may stand anywhere between two-digit pairs, and
 * whitespace may surround the whole. "{…}" and other separators are refused.
 */
export function parseUuid(s: string): Uint8Array | undefined {
  const out = new Uint8Array(UUID_LENGTH);
  let i = 0;
  while (i < s.length && isSpace(s[i]!)) i++;
  for (let n = 0; n < UUID_LENGTH; ) {
    const c = s[i];
    if (c === undefined) return undefined;
    if (c === '-' || c === ' ') {
      i++;
      continue;
    }
    const d = s[i + 1];
    if (!HEX.test(c) || d === undefined || !HEX.test(d)) return undefined;
    out[n++] = parseInt(c + d, 16);
    i += 2;
  }
  for (; i < s.length; i++) if (!isSpace(s[i]!)) return undefined;
  return out;
}

/** Canonical lowercase 8-4-4-4-12 text. */
export function formatUuid(raw: Uint8Array): string {
  if (raw.length !== UUID_LENGTH) throw new RangeError(`a UUID has ${UUID_LENGTH} bytes, not ${raw.length}`);
  const h = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The canonical text of a UUID, or undefined when it does not parse. */
export function normalizeUuid(s: string): string | undefined {
  const u = parseUuid(s);
  return u ? formatUuid(u) : undefined;
}

/** virUUIDGenerate: random bytes made an RFC 4122 version 4, variant 1 UUID. */
export function generateUuid(random: (n: number) => Uint8Array = randomBytes): Uint8Array {
  const u = Uint8Array.from(random(UUID_LENGTH));
  u[6] = (u[6]! & 0x0f) | 0x40;
  u[8] = (u[8]! & 0x3f) | 0x80;
  return u;
}

export function generateUuidString(): string {
  return formatUuid(generateUuid());
}

/** virUUIDIsValid: the test libvirt applies to a host UUID — not all bytes equal. */
export function isValidHostUuid(raw: Uint8Array): boolean {
  return raw.length === UUID_LENGTH && raw.some((b) => b !== raw[0]);
}

export function uuidEqual(a: Uint8Array | string, b: Uint8Array | string): boolean {
  const x = typeof a === 'string' ? parseUuid(a) : a;
  const y = typeof b === 'string' ? parseUuid(b) : b;
  return !!x && !!y && x.length === y.length && x.every((v, i) => v === y[i]);
}
