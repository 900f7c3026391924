// IP addresses as libvirt's virSocketAddr reads and writes them. libvirt parses with
// getaddrinfo(AI_NUMERICHOST), so IPv4 takes every inet_aton form ("10.1", "012.0.0.1",
// "0x0a000001") and IPv6 takes inet_pton's plus a "%scope" suffix; it prints with
// getnameinfo(NI_NUMERICHOST), i.e. glibc's inet_ntop. Also the netmask/prefix arithmetic and
// the DHCP range check (virSocketAddrGetRange) with libvirt's messages.
import { ErrorDomain, ErrorNumber, virtError, type VirtError } from '../../errors/index.js';

export interface SocketAddr {
  family: 4 | 6;
  /** 4 or 16 bytes, network order */
  bytes: Uint8Array;
  /** IPv6 zone ("eth0" in fe80::1%eth0), kept as written */
  scope?: string;
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isHex = (c: string | undefined): boolean => c !== undefined && /^[0-9a-fA-F]$/.test(c);

/** glibc's inet_aton, exact form (no trailing characters), as getaddrinfo uses it. */
export function parseInetAton(s: string): Uint8Array | undefined {
  const parts: number[] = [];
  let i = 0;
  let val = 0;
  for (;;) {
    let c = s[i];
    if (!isDigit(c)) return undefined;
    val = 0;
    let base = 10;
    let digit = false;
    if (c === '0') {
      c = s[++i];
      if (c === 'x' || c === 'X') {
        base = 16;
        c = s[++i];
      } else {
        base = 8;
        digit = true;
      }
    }
    for (;;) {
      if (isDigit(c)) {
        if (base === 8 && (c === '8' || c === '9')) return undefined;
        val = val * base + (c!.charCodeAt(0) - 48);
      } else if (base === 16 && isHex(c)) {
        val = val * 16 + parseInt(c!, 16);
      } else break;
      if (val > 0xffffffff) return undefined;
      digit = true;
      c = s[++i];
    }
    if (c === '.') {
      if (parts.length >= 3 || val > 0xff) return undefined;
      parts.push(val);
      i++;
      continue;
    }
    if (c !== undefined) return undefined;
    if (!digit) return undefined;
    break;
  }
  const limits = [0xffffffff, 0xffffff, 0xffff, 0xff];
  if (val > limits[parts.length]!) return undefined;
  let n = val;
  for (let k = 0; k < parts.length; k++) n += parts[k]! * 2 ** (8 * (3 - k));
  return Uint8Array.of((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

/** glibc's inet_pton(AF_INET): four decimal parts, no leading zeros. */
function parseInetPton4(s: string): Uint8Array | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const out = new Uint8Array(4);
  for (let k = 0; k < 4; k++) {
    const p = m[k + 1]!;
    if (p.length > 1 && p[0] === '0') return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    out[k] = v;
  }
  return out;
}

/** glibc's inet_pton(AF_INET6). */
export function parseInetPton6(s: string): Uint8Array | undefined {
  const out = new Uint8Array(16);
  if (s === '') return undefined;
  let head = s;
  let tail = '';
  const dbl = s.indexOf('::');
  if (dbl >= 0) {
    if (s.indexOf('::', dbl + 1) >= 0) return undefined;
    head = s.slice(0, dbl);
    tail = s.slice(dbl + 2);
  }
  const groups = (part: string, allowV4: boolean): number[] | undefined => {
    if (part === '') return [];
    const items = part.split(':');
    const words: number[] = [];
    for (let k = 0; k < items.length; k++) {
      const it = items[k]!;
      if (allowV4 && k === items.length - 1 && it.includes('.')) {
        const v4 = parseInetPton4(it);
        if (!v4) return undefined;
        words.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(it)) return undefined;
      words.push(parseInt(it, 16));
    }
    return words;
  };
  const hw = groups(head, dbl < 0);
  const tw = dbl >= 0 ? groups(tail, true) : [];
  if (!hw || !tw) return undefined;
  if (dbl < 0 && hw.length !== 8) return undefined;
  if (dbl >= 0 && hw.length + tw.length > 7) return undefined;
  const words = new Array<number>(8).fill(0);
  hw.forEach((w, k) => (words[k] = w));
  tw.forEach((w, k) => (words[8 - tw.length + k] = w));
  words.forEach((w, k) => {
    out[2 * k] = w >> 8;
    out[2 * k + 1] = w & 0xff;
  });
  return out;
}

/**
 * virSocketAddrParse: an IPv4 address in any inet_aton form, or an IPv6 address (with an
 * optional %scope). `family` restricts the result. undefined when it is not a numeric address.
 */
export function parseSocketAddr(s: string, family?: 4 | 6): SocketAddr | undefined {
  if (family !== 6) {
    const v4 = parseInetAton(s);
    if (v4) return { family: 4, bytes: v4 };
    if (family === 4) return undefined;
  }
  const pct = s.indexOf('%');
  const addr = pct >= 0 ? s.slice(0, pct) : s;
  const scope = pct >= 0 ? s.slice(pct + 1) : undefined;
  if (scope !== undefined && !/^[A-Za-z0-9_.:-]+$/.test(scope)) return undefined;
  const v6 = parseInetPton6(addr);
  if (!v6) return undefined;
  return scope !== undefined ? { family: 6, bytes: v6, scope } : { family: 6, bytes: v6 };
}

/** The error libvirt's virSocketAddrParse reports for text that is not an address. */
export function socketAddrParseError(s: string): VirtError {
  return virtError(ErrorNumber.SYSTEM_ERROR, ErrorDomain.NONE, `Cannot parse socket address '${s}': Name or service not known`, { value: s });
}

function formatV4(b: Uint8Array, off = 0): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/** virSocketAddrFormat: dotted quad, or glibc's inet_ntop for IPv6 (longest zero run as ::). */
export function formatSocketAddr(a: SocketAddr): string {
  if (a.family === 4) return formatV4(a.bytes);
  const w: number[] = [];
  for (let k = 0; k < 8; k++) w.push((a.bytes[2 * k]! << 8) | a.bytes[2 * k + 1]!);
  let bestBase = -1;
  let bestLen = 0;
  let curBase = -1;
  let curLen = 0;
  for (let k = 0; k < 8; k++) {
    if (w[k] === 0) {
      if (curBase === -1) {
        curBase = k;
        curLen = 1;
      } else curLen++;
    } else if (curBase !== -1) {
      if (bestBase === -1 || curLen > bestLen) {
        bestBase = curBase;
        bestLen = curLen;
      }
      curBase = -1;
    }
  }
  if (curBase !== -1 && (bestBase === -1 || curLen > bestLen)) {
    bestBase = curBase;
    bestLen = curLen;
  }
  if (bestBase !== -1 && bestLen < 2) bestBase = -1;
  let s = '';
  for (let k = 0; k < 8; k++) {
    if (bestBase !== -1 && k >= bestBase && k < bestBase + bestLen) {
      if (k === bestBase) s += ':';
      continue;
    }
    if (k !== 0) s += ':';
    if (k === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff))) {
      s += formatV4(a.bytes, 12);
      break;
    }
    s += w[k]!.toString(16);
  }
  if (bestBase !== -1 && bestBase + bestLen === 8) s += ':';
  return a.scope !== undefined ? `${s}%${a.scope}` : s;
}

export function socketAddrEqual(a: SocketAddr, b: SocketAddr): boolean {
  return a.family === b.family && a.bytes.every((v, i) => v === b.bytes[i]);
}

/** virSocketAddrGetNumNetmaskBits: the prefix of a contiguous IPv4/IPv6 netmask, else -1. */
export function netmaskBits(mask: SocketAddr): number {
  let n = 0;
  let ended = false;
  for (const byte of mask.bytes) {
    for (let bit = 7; bit >= 0; bit--) {
      const set = (byte >> bit) & 1;
      if (set) {
        if (ended) return -1;
        n++;
      } else ended = true;
    }
  }
  return n;
}

/** virSocketAddrPrefixToNetmask. undefined when the prefix is out of range for the family. */
export function prefixToNetmask(prefix: number, family: 4 | 6): SocketAddr | undefined {
  const len = family === 4 ? 4 : 16;
  if (prefix < 0 || prefix > len * 8) return undefined;
  const bytes = new Uint8Array(len);
  for (let k = 0; k < len; k++) {
    const bits = Math.max(0, Math.min(8, prefix - 8 * k));
    bytes[k] = bits === 0 ? 0 : (0xff << (8 - bits)) & 0xff;
  }
  return { family, bytes };
}

/** virSocketAddrMask: address AND netmask (same family). */
export function maskAddr(addr: SocketAddr, netmask: SocketAddr): SocketAddr | undefined {
  if (addr.family !== netmask.family) return undefined;
  return { family: addr.family, bytes: addr.bytes.map((b, i) => b & netmask.bytes[i]!) };
}

export function maskByPrefix(addr: SocketAddr, prefix: number): SocketAddr | undefined {
  const m = prefixToNetmask(prefix, addr.family);
  return m ? maskAddr(addr, m) : undefined;
}

/**
 * virSocketAddrGetIPPrefix: the prefix if > 0; else the netmask's bit count (-1 when the
 * netmask is not contiguous); else IPv4's classful default (A 8, B 16, C 24, others -1) or 64 for
 * IPv6 (0 for ::); 0 when nothing is known.
 */
export function ipPrefixOf(address: SocketAddr | undefined, netmask: SocketAddr | undefined, prefix: number | undefined): number {
  if (prefix && prefix > 0) return prefix;
  if (netmask) return netmaskBits(netmask);
  if (address?.family === 4) {
    const o = address.bytes[0]!;
    if ((o & 0x80) === 0) return 8;
    if ((o & 0xc0) === 0x80) return 16;
    if ((o & 0xe0) === 0xc0) return 24;
    return -1;
  }
  if (address?.family === 6) return address.bytes.every((b) => b === 0) ? 0 : 64;
  return 0;
}

/**
 * virNetworkIPDefPrefix (and the same for a <route>): ipPrefixOf over the element's address,
 * netmask and prefix as written; an address that does not parse counts as unknown.
 */
export function ipDefPrefix(d: { address: string; netmask?: string; prefix?: number }): number {
  const addr = parseSocketAddr(d.address);
  const mask = addr && d.netmask ? parseSocketAddr(d.netmask, addr.family) : undefined;
  return ipPrefixOf(addr, mask, d.prefix);
}

function rangeError(msg: string): VirtError {
  return virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.NONE, msg);
}

/**
 * virSocketAddrGetRange: checks a DHCP/NAT range (same family, inside the network when one is
 * given, not the network or broadcast address, at most 65535 addresses, not reversed) and
 * returns its size. Errors are INTERNAL_ERROR from libvirt's util code (domain NONE).
 */
export function checkAddrRange(start: SocketAddr, end: SocketAddr, network?: SocketAddr, prefix = 0): number {
  const s = formatSocketAddr(start);
  const e = formatSocketAddr(end);
  if (start.family !== end.family) throw rangeError(`mismatch of address family in range ${s} - ${e}`);
  if (network) {
    const n = formatSocketAddr(network);
    if (start.family !== network.family) throw rangeError(`mismatch of address family in range ${s} - ${e} for network ${n}`);
    const mask = prefix < 0 ? undefined : prefixToNetmask(prefix, network.family);
    if (!mask) throw rangeError(`bad prefix ${prefix} for network ${n} when  checking range ${s} - ${e}`);
    const net = maskAddr(network, mask)!;
    const inside = (a: SocketAddr) => socketAddrEqual(maskAddr(a, mask)!, net);
    if (!inside(start) || !inside(end)) throw rangeError(`range ${s} - ${e} is not entirely within network ${n}/${prefix}`);
    if (start.family === 4) {
      const broadcast: SocketAddr = { family: 4, bytes: net.bytes.map((b, i) => b | (~mask.bytes[i]! & 0xff)) };
      if (socketAddrEqual(start, net)) throw rangeError(`start of range ${s} - ${e} in network ${n}/${prefix} is the network address`);
      if (socketAddrEqual(end, broadcast)) throw rangeError(`end of range ${s} - ${e} in network ${n}/${prefix} is the broadcast address`);
    }
  }
  // libvirt's legacy rule: everything but the last 16 bits must be equal.
  const len = start.bytes.length;
  for (let k = 0; k < len - 2; k++) {
    if (start.bytes[k] !== end.bytes[k]) throw rangeError(`range ${s} - ${e} is too large (> 65535)`);
  }
  const size = (end.bytes[len - 2]! - start.bytes[len - 2]!) * 256 + (end.bytes[len - 1]! - start.bytes[len - 1]!);
  if (size < 0) throw rangeError(`range ${s} - ${e} is reversed `);
  return size + 1;
}
