// tsvirtd's configuration: libvirtd.conf's keys, types and defaults (libvirt 9.0), read from a
// file in virConf syntax. A value of the wrong type or out of range is refused with libvirt's
// message, which names the file and the key; a key libvirtd does not know is warned about (a
// typo should not pass silently) and ignored. Keys tsvirtd accepts but cannot act on (worker
// pools, audit, SASL, polkit ACLs, the admin server) are listed in `inert` and reported once.
import { readFileSync } from 'node:fs';
import { ErrorDomain, ErrorNumber, VirtError, fromSystemError, virtError } from '../errors/index.js';
import { MAX_CONFIG_FILE_SIZE, parseConf, type ConfEntry, type ConfFile } from './confFile.js';
import { parseLogFilters, parseLogOutputs, type LogFilter, type LogOutputSpec } from './logging.js';

export type AuthScheme = 'none' | 'polkit';

export interface DaemonConfig {
  listenTcp: boolean;
  /** Honoured only with --listen, as libvirtd. */
  listenTls: boolean;
  tcpPort: number;
  tlsPort: number;
  /** null: loopback for TCP (tsvirtd has no TCP authentication), every address for TLS. */
  listenAddr: string | null;
  unixSockGroup: string | null;
  unixSockRoPerms: number;
  unixSockRwPerms: number;
  unixSockAdminPerms: number;
  /** null: the mode's default (/run/tsvirt, $XDG_RUNTIME_DIR/tsvirt, or under --root). */
  unixSockDir: string | null;
  authUnixRw: AuthScheme;
  authUnixRo: AuthScheme;
  authTcp: AuthScheme;
  authTls: AuthScheme;
  accessDrivers: string[];
  keyFile: string | null;
  certFile: string | null;
  caFile: string | null;
  crlFile: string | null;
  tlsNoSanityCertificate: boolean;
  tlsNoVerifyCertificate: boolean;
  tlsAllowedDnList: string[] | null;
  tlsPriority: string | null;
  saslAllowedUsernameList: string[] | null;
  tcpMinSsf: number;
  minWorkers: number;
  maxWorkers: number;
  prioWorkers: number;
  maxClients: number;
  maxQueuedClients: number;
  maxAnonymousClients: number;
  maxClientRequests: number;
  auditLevel: number;
  auditLogging: boolean;
  hostUuid: string | null;
  hostUuidSource: string | null;
  /** 1 debug, 2 info, 3 warning, 4 error. */
  logLevel: number;
  logFilters: LogFilter[];
  logOutputs: LogOutputSpec[] | null;
  /** Seconds; -1 (or 0) disables keepalive. */
  keepaliveInterval: number;
  keepaliveCount: number;
  ovsTimeout: number;
}

type KeyType = 'bool' | 'string' | 'uint' | 'int' | 'stringList' | 'auth';

interface KeyDef {
  type: KeyType;
  /** The DaemonConfig field (admin_* and obsolete keys have none). */
  field?: keyof DaemonConfig;
  /** Takes effect on SIGHUP; the others need a restart. */
  reloadable?: boolean;
  /** Accepted for libvirtd.conf compatibility but without effect in tsvirtd: why. */
  inert?: string;
}

/** Every key libvirtd 9.0 reads from libvirtd.conf, with its type. */
const KEYS: Record<string, KeyDef> = {
  listen_tcp: { type: 'bool', field: 'listenTcp' },
  listen_tls: { type: 'bool', field: 'listenTls' },
  tls_port: { type: 'string', field: 'tlsPort' },
  tcp_port: { type: 'string', field: 'tcpPort' },
  listen_addr: { type: 'string', field: 'listenAddr' },
  auth_unix_rw: { type: 'auth', field: 'authUnixRw' },
  auth_unix_ro: { type: 'auth', field: 'authUnixRo' },
  auth_tcp: { type: 'auth', field: 'authTcp' },
  auth_tls: { type: 'auth', field: 'authTls' },
  access_drivers: { type: 'stringList', field: 'accessDrivers' },
  unix_sock_group: { type: 'string', field: 'unixSockGroup' },
  unix_sock_admin_perms: { type: 'string', field: 'unixSockAdminPerms', inert: 'tsvirtd has no admin socket' },
  unix_sock_ro_perms: { type: 'string', field: 'unixSockRoPerms' },
  unix_sock_rw_perms: { type: 'string', field: 'unixSockRwPerms' },
  unix_sock_dir: { type: 'string', field: 'unixSockDir' },
  tls_no_sanity_certificate: { type: 'bool', field: 'tlsNoSanityCertificate' },
  tls_no_verify_certificate: { type: 'bool', field: 'tlsNoVerifyCertificate' },
  key_file: { type: 'string', field: 'keyFile' },
  cert_file: { type: 'string', field: 'certFile' },
  ca_file: { type: 'string', field: 'caFile' },
  crl_file: { type: 'string', field: 'crlFile' },
  tls_allowed_dn_list: { type: 'stringList', field: 'tlsAllowedDnList' },
  tls_priority: { type: 'string', field: 'tlsPriority', inert: "GnuTLS priority strings do not apply to Node's TLS" },
  tcp_min_ssf: { type: 'uint', field: 'tcpMinSsf', inert: 'tsvirtd has no SASL' },
  sasl_allowed_username_list: { type: 'stringList', field: 'saslAllowedUsernameList', inert: 'tsvirtd has no SASL' },
  min_workers: { type: 'uint', field: 'minWorkers', inert: 'tsvirtd serves calls on one event loop' },
  max_workers: { type: 'uint', field: 'maxWorkers', inert: 'tsvirtd serves calls on one event loop' },
  prio_workers: { type: 'uint', field: 'prioWorkers', inert: 'tsvirtd serves calls on one event loop' },
  max_clients: { type: 'uint', field: 'maxClients', reloadable: true },
  max_queued_clients: { type: 'uint', field: 'maxQueuedClients' },
  max_anonymous_clients: { type: 'uint', field: 'maxAnonymousClients', inert: 'tsvirtd has no authentication step that leaves clients anonymous' },
  max_client_requests: { type: 'uint', field: 'maxClientRequests', reloadable: true },
  admin_min_workers: { type: 'uint', inert: 'tsvirtd has no admin server' },
  admin_max_workers: { type: 'uint', inert: 'tsvirtd has no admin server' },
  admin_max_clients: { type: 'uint', inert: 'tsvirtd has no admin server' },
  admin_max_queued_clients: { type: 'uint', inert: 'tsvirtd has no admin server' },
  admin_max_client_requests: { type: 'uint', inert: 'tsvirtd has no admin server' },
  audit_level: { type: 'uint', field: 'auditLevel', inert: 'tsvirtd does not audit' },
  audit_logging: { type: 'bool', field: 'auditLogging', inert: 'tsvirtd does not audit' },
  host_uuid: { type: 'string', field: 'hostUuid', inert: "the drivers report the host's own UUID" },
  host_uuid_source: { type: 'string', field: 'hostUuidSource', inert: "the drivers report the host's own UUID" },
  log_level: { type: 'uint', field: 'logLevel', reloadable: true },
  log_filters: { type: 'string', field: 'logFilters', reloadable: true },
  log_outputs: { type: 'string', field: 'logOutputs', reloadable: true },
  keepalive_interval: { type: 'int', field: 'keepaliveInterval', reloadable: true },
  keepalive_count: { type: 'uint', field: 'keepaliveCount', reloadable: true },
  admin_keepalive_interval: { type: 'int', inert: 'tsvirtd has no admin server' },
  admin_keepalive_count: { type: 'uint', inert: 'tsvirtd has no admin server' },
  ovs_timeout: { type: 'uint', field: 'ovsTimeout', inert: 'tsvirtd does not drive Open vSwitch' },
  // Still in libvirtd.conf's comments, no longer read by libvirt 9.0.
  keepalive_required: { type: 'bool', inert: 'no longer used (libvirt ignores it too)' },
  admin_keepalive_required: { type: 'bool', inert: 'no longer used (libvirt ignores it too)' },
};

/** Keys whose new value SIGHUP applies; every other change waits for a restart. */
export const RELOADABLE_KEYS: readonly string[] = Object.keys(KEYS).filter((k) => KEYS[k]!.reloadable);

/** libvirt's SSF_WARNING_LEVEL: tcp_min_ssf below it is refused. */
const SSF_WARNING_LEVEL = 112;
const UINT_MAX = 4294967295;
const INT_MAX = 2147483647;
const INT_MIN = -2147483648;

export function defaultDaemonConfig(): DaemonConfig {
  return {
    listenTcp: false,
    listenTls: true,
    tcpPort: 16509,
    tlsPort: 16514,
    listenAddr: null,
    unixSockGroup: null,
    unixSockRoPerms: 0o777,
    // libvirt's default for a socket without polkit: the owner (root) only.
    unixSockRwPerms: 0o700,
    unixSockAdminPerms: 0o700,
    unixSockDir: null,
    authUnixRw: 'none',
    authUnixRo: 'none',
    // libvirt built without SASL defaults TCP to no authentication; tsvirtd has no SASL, and
    // keeps TCP on loopback unless listen_addr says otherwise (Tsvirtd's listenNetwork).
    authTcp: 'none',
    authTls: 'none',
    accessDrivers: [],
    keyFile: null,
    certFile: null,
    caFile: null,
    crlFile: null,
    tlsNoSanityCertificate: false,
    tlsNoVerifyCertificate: false,
    tlsAllowedDnList: null,
    tlsPriority: null,
    saslAllowedUsernameList: null,
    tcpMinSsf: 56,
    minWorkers: 5,
    maxWorkers: 20,
    prioWorkers: 5,
    maxClients: 5000,
    maxQueuedClients: 1000,
    maxAnonymousClients: 20,
    maxClientRequests: 5,
    auditLevel: 1,
    auditLogging: false,
    hostUuid: null,
    hostUuidSource: null,
    logLevel: 3,
    logFilters: [],
    logOutputs: null,
    keepaliveInterval: 5,
    keepaliveCount: 5,
    ovsTimeout: 5,
  };
}

export interface LoadedConfig {
  config: DaemonConfig;
  /** Where it came from ('' for the built-in defaults). */
  filename: string;
  /** Keys given in the file (known ones), for reload comparisons. */
  keys: Map<string, ConfEntry>;
  /** Unknown keys and keys without effect: one line each, for the log. */
  warnings: string[];
}

// libvirt reports a value of the wrong type as an internal error in the CONF domain.
function typeError(filename: string, what: string): VirtError {
  return virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.CONF, `${filename}: ${what}`);
}

function getString(f: ConfFile, e: ConfEntry): string {
  if (e.value.type !== 'string') throw typeError(f.filename, `expected a string for '${e.name}' parameter`);
  return e.value.value;
}

function getBool(f: ConfFile, e: ConfEntry): boolean {
  if (e.value.type !== 'unsigned') throw typeError(f.filename, `expected a bool for '${e.name}' parameter`);
  if (e.value.value > 1) throw typeError(f.filename, `value for '${e.name}' parameter must be 0 or 1`);
  return e.value.value === 1;
}

function getUInt(f: ConfFile, e: ConfEntry): number {
  if (e.value.type !== 'unsigned') throw typeError(f.filename, `expected an unsigned integer for '${e.name}' parameter`);
  if (e.value.value > UINT_MAX) throw typeError(f.filename, `value for '${e.name}' parameter must be in range 0:${UINT_MAX}`);
  return e.value.value;
}

function getInt(f: ConfFile, e: ConfEntry): number {
  if (e.value.type !== 'unsigned' && e.value.type !== 'signed') {
    throw typeError(f.filename, `expected a signed integer for '${e.name}' parameter`);
  }
  if (e.value.value > INT_MAX || e.value.value < INT_MIN) {
    throw typeError(f.filename, `value for '${e.name}' parameter must be in range ${INT_MIN}:${INT_MAX}`);
  }
  return e.value.value;
}

function getStringList(f: ConfFile, e: ConfEntry): string[] {
  const v = e.value;
  if (v.type === 'list') {
    return v.items.map((item) => {
      if (item.type !== 'string') {
        throw virtError(ErrorNumber.CONF_SYNTAX, ErrorDomain.CONF, `${f.filename}: expected a string list for '${e.name}' parameter`);
      }
      return item.value;
    });
  }
  throw typeError(f.filename, `expected a string list for '${e.name}' parameter`);
}

function getAuth(f: ConfFile, e: ConfEntry): AuthScheme {
  const s = getString(f, e);
  if (s === 'none' || s === 'polkit') return s;
  // 'sasl' too: tsvirtd is a libvirtd built without SASL.
  throw virtError(ErrorNumber.CONFIG_UNSUPPORTED, ErrorDomain.CONF, `${f.filename}: ${e.name}: unsupported auth ${s}`, { value: s });
}

/** A socket mode given as an octal string ("0770"), as libvirtd reads it. */
function parsePerms(f: ConfFile, key: string, s: string): number {
  if (!/^[0-7]{1,4}$/.test(s.trim())) {
    throw virtError(ErrorNumber.CONFIG_UNSUPPORTED, ErrorDomain.CONF, `${f.filename}: ${key}: Failed to parse mode '${s}'`, { value: s });
  }
  return parseInt(s.trim(), 8);
}

function parsePort(f: ConfFile, key: string, s: string): number {
  const n = Number(s);
  if (!/^\d{1,5}$/.test(s) || n > 65535) {
    throw virtError(ErrorNumber.CONFIG_UNSUPPORTED, ErrorDomain.CONF, `${f.filename}: ${key}: invalid port '${s}'`, { value: s });
  }
  return n;
}

function rangeError(f: ConfFile, key: string, what: string): VirtError {
  return virtError(ErrorNumber.CONFIG_UNSUPPORTED, ErrorDomain.CONF, `${f.filename}: ${key}: ${what}`);
}

/** Reads parsed config entries into a DaemonConfig. Throws on the first bad value. */
function daemonConfigFromConf(f: ConfFile): LoadedConfig {
  const c = defaultDaemonConfig();
  const warnings: string[] = [];
  const keys = new Map<string, ConfEntry>();
  const seen = new Set<string>();
  for (const e of f.entries) {
    if (seen.has(e.name)) {
      warnings.push(`${f.filename}:${e.line}: '${e.name}' given again; the first value (line ${f.get(e.name)!.line}) counts`);
      continue;
    }
    seen.add(e.name);
    const def = KEYS[e.name];
    if (!def) {
      warnings.push(`${f.filename}:${e.line}: unknown configuration key '${e.name}' ignored`);
      continue;
    }
    keys.set(e.name, e);
    let value: unknown;
    switch (def.type) {
      case 'bool':
        value = getBool(f, e);
        break;
      case 'string':
        value = getString(f, e);
        break;
      case 'uint':
        value = getUInt(f, e);
        break;
      case 'int':
        value = getInt(f, e);
        break;
      case 'stringList':
        value = getStringList(f, e);
        break;
      case 'auth':
        value = getAuth(f, e);
        break;
    }
    switch (e.name) {
      case 'tcp_port':
      case 'tls_port':
        value = parsePort(f, e.name, value as string);
        break;
      case 'unix_sock_rw_perms':
      case 'unix_sock_ro_perms':
      case 'unix_sock_admin_perms':
        value = parsePerms(f, e.name, value as string);
        break;
      case 'max_workers':
        if ((value as number) < 1) throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.CONF, "'max_workers' must be greater than 0");
        break;
      case 'tcp_min_ssf':
        if ((value as number) < SSF_WARNING_LEVEL) {
          throw virtError(ErrorNumber.CONFIG_UNSUPPORTED, ErrorDomain.CONF, `minimum SSF levels lower than ${SSF_WARNING_LEVEL} are not supported`);
        }
        break;
      case 'log_level':
        if ((value as number) < 1 || (value as number) > 4) throw rangeError(f, e.name, `value ${value} is not a log level (1 debug, 2 info, 3 warning, 4 error)`);
        break;
      case 'log_filters':
        value = wrapConf(f, e.name, () => parseLogFilters(value as string));
        break;
      case 'log_outputs':
        value = wrapConf(f, e.name, () => parseLogOutputs(value as string));
        break;
      case 'max_clients':
      case 'max_client_requests':
        if ((value as number) < 1) throw rangeError(f, e.name, 'must be at least 1');
        break;
      case 'access_drivers':
        for (const d of value as string[]) {
          // libvirt's access drivers: 'none' allows everything, 'polkit' asks polkitd per call.
          if (d !== 'none') throw rangeError(f, e.name, `access driver '${d}' is not available in tsvirtd`);
        }
        break;
    }
    if (def.field) (c as unknown as Record<string, unknown>)[def.field] = value;
    if (def.inert) warnings.push(`${f.filename}:${e.line}: '${e.name}' has no effect: ${def.inert}`);
  }
  // With polkit on the read-write socket libvirt opens its mode to everyone (polkit decides);
  // an explicit unix_sock_rw_perms still wins.
  if (c.authUnixRw === 'polkit' && !keys.has('unix_sock_rw_perms')) c.unixSockRwPerms = 0o777;
  return { config: c, filename: f.filename, keys, warnings };
}

function wrapConf<T>(f: ConfFile, key: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof VirtError) throw rangeError(f, key, err.message);
    throw err;
  }
}

/** Parses config text (virConf syntax) into a DaemonConfig. */
export function parseDaemonConfig(text: string, filename: string): LoadedConfig {
  return daemonConfigFromConf(parseConf(text, filename));
}

/** Reads and parses a config file. */
export function loadDaemonConfig(path: string): LoadedConfig {
  let text: string;
  try {
    const buf = readFileSync(path);
    if (buf.length > MAX_CONFIG_FILE_SIZE) {
      throw virtError(ErrorNumber.CONF_SYNTAX, ErrorDomain.CONF, `${path}: file is larger than ${MAX_CONFIG_FILE_SIZE} bytes`);
    }
    text = buf.toString('utf8');
  } catch (err) {
    if (err instanceof VirtError) throw err;
    throw fromSystemError(err, ErrorDomain.CONF, `Failed to open file '${path}'`, { value: path });
  }
  return parseDaemonConfig(text, path);
}

/** The configuration with no file: libvirtd's defaults. */
export function builtinDaemonConfig(): LoadedConfig {
  return { config: defaultDaemonConfig(), filename: '', keys: new Map(), warnings: [] };
}

export interface ConfigChanges {
  /** Keys whose new value was applied. */
  applied: string[];
  /** Keys whose value changed but that only a restart applies. */
  needRestart: string[];
}

/** What changed between two loads of the config file, split by whether SIGHUP can apply it. */
export function configChanges(before: LoadedConfig, after: LoadedConfig): ConfigChanges {
  const applied: string[] = [];
  const needRestart: string[] = [];
  const names = new Set([...before.keys.keys(), ...after.keys.keys()]);
  for (const name of [...names].sort()) {
    const def = KEYS[name]!;
    const a = def.field ? JSON.stringify(before.config[def.field]) : JSON.stringify(before.keys.get(name)?.value);
    const b = def.field ? JSON.stringify(after.config[def.field]) : JSON.stringify(after.keys.get(name)?.value);
    if (a === b) continue;
    (def.reloadable ? applied : needRestart).push(name);
  }
  return { applied, needRestart };
}

/**
 * The configuration SIGHUP leaves running: `running` with the keys of `changes.applied` taken
 * from `next` (their values and their file entries); every other key keeps its running value
 * until a restart.
 */
export function reloadedConfig(running: LoadedConfig, next: LoadedConfig, changes: ConfigChanges): LoadedConfig {
  const config = { ...running.config };
  const keys = new Map(running.keys);
  for (const k of changes.applied) {
    const field = KEYS[k]?.field;
    if (field) (config as unknown as Record<string, unknown>)[field] = next.config[field];
    const e = next.keys.get(k);
    if (e) keys.set(k, e);
    else keys.delete(k);
  }
  return { ...next, config, keys };
}

/** Every key tsvirtd knows (libvirtd's), with its type. */
export function knownConfigKeys(): { name: string; type: KeyType; reloadable: boolean; inert: string | null }[] {
  return Object.entries(KEYS).map(([name, d]) => ({ name, type: d.type, reloadable: !!d.reloadable, inert: d.inert ?? null }));
}
