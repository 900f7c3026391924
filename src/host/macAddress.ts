// MAC addresses as the host layer passes them: lowercase colon hex text outside, 6 bytes on the
// wire. (Parsing user XML, with its error messages, belongs to the conf layer.)

const MAC_RE = /^[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2}){5}$/;

/** 6 bytes of "52:54:00:aa:bb:cc", or null when the text is not a MAC address. */
export function parseMac(text: string): Uint8Array | null {
  const s = text.trim();
  if (!MAC_RE.test(s)) return null;
  return Uint8Array.from(s.split(':').map((h) => parseInt(h, 16)));
}

/** "52:54:00:aa:bb:cc" */
export function formatMac(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 6), (b) => b.toString(16).padStart(2, '0')).join(':');
}

/** Lowercase, zero-padded form of a valid MAC, or null. */
export function normalizeMac(text: string): string | null {
  const b = parseMac(text);
  return b ? formatMac(b) : null;
}

export function isZeroMac(text: string): boolean {
  const b = parseMac(text);
  return b !== null && b.every((x) => x === 0);
}
