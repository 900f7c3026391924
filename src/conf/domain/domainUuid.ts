// UUIDs as the domain parser needs them: libvirt's lenient parse (hex digits with dashes
// anywhere between byte pairs, surrounding blanks) and random generation.
import { randomUUID } from 'node:crypto';

/** virUUIDParse: 32 hex digits, '-' allowed between digit pairs, leading/trailing blanks. */
export function parseUuidLenient(s: string): string | undefined {
  let i = 0;
  while (s[i] === ' ' || s[i] === '\t' || s[i] === '\n' || s[i] === '\r') i++;
  let hex = '';
  while (hex.length < 32) {
    if (s[i] === '-') {
      i++;
      continue;
    }
    const a = s[i];
    const b = s[i + 1];
    if (!a || !b || !/[0-9a-fA-F]/.test(a) || !/[0-9a-fA-F]/.test(b)) return undefined;
    hex += a + b;
    i += 2;
  }
  while (i < s.length) {
    const c = s[i++]!;
    if (c !== ' ' && c !== '\t' && c !== '\n' && c !== '\r') return undefined;
  }
  hex = hex.toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function generateUuid(): string {
  return randomUUID();
}
