// MAC addresses as libvirt reads, writes and generates them (virmacaddr.c), plus the rule for
// the host side of a tap device.
import { randomBytes } from 'node:crypto';

export const MAC_LENGTH = 6;

/** QEMU's OUI, the prefix of every MAC libvirt generates for a guest. */
export const QEMU_MAC_PREFIX: readonly number[] = [0x52, 0x54, 0x00];

const BYTE = /^[0-9a-fA-F]{1,2}$/;

/**
 * virMacAddrParse: six groups of one or two hex digits separated by ':' ("0:1E:FC:E:3a:CB" is
 * valid). No surrounding whitespace or sign. Returns the 6 bytes, or undefined.
 */
export function parseMacAddr(s: string): Uint8Array | undefined {
  const parts = s.split(':');
  if (parts.length !== MAC_LENGTH) return undefined;
  const out = new Uint8Array(MAC_LENGTH);
  for (let i = 0; i < MAC_LENGTH; i++) {
    const p = parts[i]!;
    if (!BYTE.test(p)) return undefined;
    out[i] = parseInt(p, 16);
  }
  return out;
}

/** Lowercase, two digits per byte: "52:54:00:0a:0b:0c" (what libvirt's XML shows). */
export function formatMacAddr(mac: Uint8Array | readonly number[]): string {
  if (mac.length !== MAC_LENGTH) throw new RangeError(`a MAC address has ${MAC_LENGTH} bytes, not ${mac.length}`);
  return Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join(':');
}

/** The canonical text of a MAC address, or undefined when it does not parse. */
export function normalizeMacAddr(s: string): string | undefined {
  const m = parseMacAddr(s);
  return m ? formatMacAddr(m) : undefined;
}

function bytesOf(mac: Uint8Array | string): Uint8Array {
  if (typeof mac !== 'string') return mac;
  const m = parseMacAddr(mac);
  if (!m) throw new RangeError(`not a MAC address: '${mac}'`);
  return m;
}

/** The low bit of the first byte marks a multicast (group) address. */
export function isMulticastMac(mac: Uint8Array | string): boolean {
  return (bytesOf(mac)[0]! & 1) === 1;
}

export function isUnicastMac(mac: Uint8Array | string): boolean {
  return !isMulticastMac(mac);
}

/** 00:00:00:00:00:00, which libvirt treats as "not set" and replaces with a generated MAC. */
export function isZeroMac(mac: Uint8Array | string): boolean {
  return bytesOf(mac).every((b) => b === 0);
}

/** virMacAddrGenerate: the prefix (QEMU's 52:54:00 by default) and three random bytes. */
export function generateMacAddr(prefix: readonly number[] = QEMU_MAC_PREFIX, random: (n: number) => Uint8Array = randomBytes): Uint8Array {
  if (prefix.length !== 3) throw new RangeError('a MAC prefix has 3 bytes');
  const r = random(3);
  return Uint8Array.of(prefix[0]!, prefix[1]!, prefix[2]!, r[0]!, r[1]!, r[2]!);
}

/** A generated MAC as text. */
export function generateMacAddrString(prefix: readonly number[] = QEMU_MAC_PREFIX): string {
  return formatMacAddr(generateMacAddr(prefix));
}

/**
 * The MAC for the host side of a managed tap: the guest's MAC with the first byte replaced by
 * 0xFE, or 0xFA when the guest's own MAC starts with 0xFE. A tap with the guest's own MAC makes
 * the bridge complain about "own address as source address", and a high first byte keeps the
 * tap from becoming the bridge's MAC (a Linux bridge takes the lowest MAC of its ports).
 */
export function tapHostMac(guest: Uint8Array | string): Uint8Array {
  const g = bytesOf(guest);
  const out = Uint8Array.from(g);
  out[0] = g[0] === 0xfe ? 0xfa : 0xfe;
  return out;
}

/** Byte-wise equality; strings are parsed first, so case and leading zeros do not matter. */
export function macAddrEqual(a: Uint8Array | string, b: Uint8Array | string): boolean {
  const x = bytesOf(a);
  const y = bytesOf(b);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/**
 * virMacAddrCompare's equality on the text as given, valid or not: case-insensitive, and a '0'
 * just before another hex digit is ignored ("0a:0b:…" equals "a:b:…", and "a0b" equals "ab").
 */
export function macAddrTextEqual(a: string, b: string): boolean {
  const canon = (s: string): string => s.replace(/0(?=[0-9a-fA-F])/g, '').toLowerCase();
  return canon(a) === canon(b);
}
