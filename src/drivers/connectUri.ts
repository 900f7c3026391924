// libvirt connection URIs: driver[+transport]://[user@][host][:port]/[path][?query].
// Parsed here, in the drivers layer, because both the API's driver selection and the remote
// driver (which must compute the name it sends in CONNECT_OPEN) need them.
import { ErrorDomain, ErrorNumber, virtError } from '../errors/index.js';

export interface ConnectURI {
  /** 'qemu', 'test', 'remote', … (the scheme before '+'). */
  driver: string;
  /** 'unix', 'tcp', 'tls', 'ssh', 'libssh', 'libssh2', 'ext', or null (after '+'). */
  transport: string | null;
  user: string | null;
  /** Host name or address (IPv6 without brackets); null for local URIs (`qemu:///system`). */
  host: string | null;
  port: number | null;
  /** '/system', '/session', '/default', '/embed', '/ABS/FILE.xml', or '' when absent. */
  path: string;
  /** Query parameters in order, percent-decoded. */
  params: [string, string][];
}

const SCHEME = /^([A-Za-z][A-Za-z0-9.-]*?)(?:\+([A-Za-z0-9.-]+))?:\/\/(.*)$/s;

function bad(uri: string, why: string) {
  return virtError(ErrorNumber.INVALID_ARG, ErrorDomain.URI, `Unable to parse URI ${uri}: ${why}`, { value: uri });
}

function decode(uri: string, s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    throw bad(uri, `bad escape in '${s}'`);
  }
}

/** Parses a libvirt URI; malformed ones are INVALID_ARG in the URI error domain. */
export function parseConnectURI(uri: string): ConnectURI {
  const m = SCHEME.exec(uri.trim());
  if (!m) throw bad(uri, "expected 'driver[+transport]://…'");
  const [, driver, transport, rest] = m as unknown as [string, string, string | undefined, string];
  const q = rest.indexOf('?');
  const beforeQuery = q >= 0 ? rest.slice(0, q) : rest;
  const query = q >= 0 ? rest.slice(q + 1) : '';
  const slash = beforeQuery.indexOf('/');
  const authority = slash >= 0 ? beforeQuery.slice(0, slash) : beforeQuery;
  const path = slash >= 0 ? decode(uri, beforeQuery.slice(slash)) : '';

  let user: string | null = null;
  let hostPort = authority;
  const at = authority.lastIndexOf('@');
  if (at >= 0) {
    user = decode(uri, authority.slice(0, at));
    hostPort = authority.slice(at + 1);
  }
  let host: string | null = null;
  let port: number | null = null;
  if (hostPort.startsWith('[')) {
    const close = hostPort.indexOf(']');
    if (close < 0) throw bad(uri, "unterminated '[' in host");
    host = hostPort.slice(1, close);
    const after = hostPort.slice(close + 1);
    if (after) {
      if (!after.startsWith(':')) throw bad(uri, `unexpected '${after}' after host`);
      port = parsePort(uri, after.slice(1));
    }
  } else if (hostPort) {
    const colon = hostPort.lastIndexOf(':');
    if (colon >= 0) {
      host = hostPort.slice(0, colon) || null;
      port = parsePort(uri, hostPort.slice(colon + 1));
    } else {
      host = hostPort;
    }
  }

  const params: [string, string][] = [];
  if (query) {
    for (const part of query.split(/[&;]/)) {
      if (!part) continue;
      const eq = part.indexOf('=');
      params.push(eq >= 0 ? [decode(uri, part.slice(0, eq)), decode(uri, part.slice(eq + 1))] : [decode(uri, part), '']);
    }
  }
  return { driver: driver.toLowerCase(), transport: transport ? transport.toLowerCase() : null, user, host, port, path, params };
}

function parsePort(uri: string, s: string): number | null {
  if (s === '') return null;
  if (!/^\d+$/.test(s) || Number(s) > 65535) throw bad(uri, `invalid port '${s}'`);
  return Number(s);
}

function encodeParam(s: string): string {
  // Keep '/' and ':' readable in socket paths and URIs given as parameter values.
  return encodeURIComponent(s).replace(/%2F/gi, '/').replace(/%3A/gi, ':');
}

/** Formats a URI back; parse(format(u)) equals u. */
export function formatConnectURI(u: ConnectURI): string {
  let s = u.driver;
  if (u.transport) s += `+${u.transport}`;
  s += '://';
  if (u.user !== null) s += `${encodeURIComponent(u.user)}@`;
  if (u.host !== null) s += u.host.includes(':') ? `[${u.host}]` : u.host;
  if (u.port !== null) s += `:${u.port}`;
  s += u.path
    .split('/')
    .map((seg) => encodeURIComponent(seg))
    .join('/');
  if (u.params.length) s += `?${u.params.map(([k, v]) => `${encodeParam(k)}=${encodeParam(v)}`).join('&')}`;
  return s;
}

/** Value of the last query parameter with this name (libvirt lets later ones win). */
export function uriParam(u: ConnectURI, name: string): string | undefined {
  let v: string | undefined;
  for (const [k, val] of u.params) if (k === name) v = val;
  return v;
}

/** True for a URI that names a host or a transport, i.e. one the remote driver must handle. */
export function isRemoteURI(u: ConnectURI): boolean {
  return u.transport !== null || u.host !== null || u.driver === 'remote';
}
