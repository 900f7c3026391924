// MAC addresses as the host layer takes them: text from drivers and state files, 6 bytes for the
// kernel. Parsing and formatting are conf/macAddr.ts's (libvirt's rules); this adds what the
// host side needs on top: surrounding whitespace tolerated (a line read from a file), only the
// first 6 bytes of a kernel buffer formatted (IFLA_VF_MAC holds 32), and an error for text that
// is not a MAC.
import { ErrorDomain, ErrorNumber, virtError } from '../errors/index.js';
import { formatMacAddr, parseMacAddr } from '../conf/macAddr.js';

/** 6 bytes of "52:54:00:aa:bb:cc", or null when the text is not a MAC address. */
export function parseMac(text: string): Uint8Array | null {
  return parseMacAddr(text.trim()) ?? null;
}

/** "52:54:00:aa:bb:cc" of the first 6 bytes. */
export function formatMac(bytes: Uint8Array): string {
  return formatMacAddr(bytes.subarray(0, 6));
}

/** Lowercase, zero-padded form of a valid MAC, or null. */
export function normalizeMac(text: string): string | null {
  const b = parseMac(text);
  return b ? formatMac(b) : null;
}

/** True for 00:00:00:00:00:00 (false for text that is not a MAC). */
export function isZeroMac(text: string): boolean {
  const b = parseMac(text);
  return b !== null && b.every((x) => x === 0);
}

/** The 6 bytes of a MAC a driver handed over; anything else is INVALID_ARG naming the text. */
export function macBytes(mac: string): Uint8Array {
  const b = parseMac(mac);
  if (!b) throw virtError(ErrorNumber.INVALID_ARG, ErrorDomain.NONE, `unable to parse mac address '${mac}'`, { value: mac });
  return b;
}
