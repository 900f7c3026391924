// dnsmasq for a virtual network: the configuration libvirt writes for it (DHCP ranges and
// hosts, DNS records, router advertisements), the process (started with --conf-file, it
// daemonizes and writes its pid file), and its lease file, read back for getDHCPLeases.
//
// Differences from libvirt: libvirt runs dnsmasq with --leasefile-ro and a helper program that
// keeps leases in its own JSON file; tsvirt lets dnsmasq keep its standard lease file
// (dhcp-leasefile=) and reads that. The files live under the driver's run directory.
import { existsSync, readFileSync } from 'node:fs';
import { promises as fs } from 'node:fs';
import { ErrorDomain, ErrorNumber, fromSystemError, virtError } from '../../errors/index.js';
import type { NetworkDef, NetworkIp, DhcpLease, DhcpHost } from '../../conf/network/index.js';
import {
  checkAddrRange,
  formatSocketAddr,
  ipDefPrefix,
  parseSocketAddr,
  prefixToNetmask,
  type SocketAddr,
} from '../../conf/network/socketAddr.js';
import { writeFileAtomic } from '../../host/atomicFile.js';
import { type CommandRunner, commandFailure, runCommand } from './commandRunner.js';

/** Where one network's dnsmasq files are. */
export interface DnsmasqPaths {
  conf: string;
  hostsFile: string;
  addnHostsFile: string;
  leaseFile: string;
  pidFile: string;
}

/** The three files dnsmasq reads. */
export interface DnsmasqFiles {
  conf: string;
  /** dhcp-hostsfile: one dhcp-host per line */
  hosts: string;
  /** addn-hosts: "ip\tname\t…" per address */
  addnHosts: string;
}

function ipFamily(ip: NetworkIp): 4 | 6 | undefined {
  return parseSocketAddr(ip.address)?.family;
}

function hasDhcp(ip: NetworkIp): boolean {
  return !!ip.dhcp && (ip.dhcp.range.length > 0 || ip.dhcp.host.length > 0);
}

function ipPrefix(def: NetworkDef, ip: NetworkIp): number {
  const prefix = ipDefPrefix(ip);
  if (prefix < 0) {
    throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.NETWORK, `bridge '${def.bridge?.name ?? ''}' has an invalid prefix`, {
      object: def.name,
    });
  }
  return prefix;
}

/** dnsmasq's lease time: "infinite", or the number with the unit's first letter (default minutes). */
export function dnsmasqLeaseTime(lease: DhcpLease | undefined): string | undefined {
  if (!lease) return undefined;
  if (lease.expiry === 0n) return 'infinite';
  return `${lease.expiry}${(lease.unit ?? 'minutes')[0]}`;
}

/** virSocketAddrPTRDomain: the reverse zone of a network whose prefix is a whole number of labels. */
export function ptrDomain(addr: SocketAddr, prefix: number): string | undefined {
  if (addr.family === 4) {
    if (prefix === 0 || prefix >= 32 || prefix % 8) return undefined;
    const labels: string[] = [];
    for (let i = prefix / 8 - 1; i >= 0; i--) labels.push(String(addr.bytes[i]));
    return `${labels.join('.')}.in-addr.arpa`;
  }
  if (prefix === 0 || prefix >= 128 || prefix % 4) return undefined;
  const nibbles: string[] = [];
  for (let i = prefix / 4 - 1; i >= 0; i--) {
    const byte = addr.bytes[i >> 1]!;
    nibbles.push(((i & 1 ? byte : byte >> 4) & 0xf).toString(16));
  }
  return `${nibbles.join('.')}.ip6.arpa`;
}

function hostLine(h: DhcpHost, ipv6: boolean): string | undefined {
  if (!h.ip) return undefined;
  const addr = parseSocketAddr(h.ip);
  if (!addr) return undefined;
  const ip = formatSocketAddr(addr);
  let line: string;
  if (ipv6) {
    const who = h.name && h.id ? `id:${h.id},${h.name}` : h.name ? h.name : h.id ? `id:${h.id}` : '';
    line = `${who},[${ip}]`;
  } else if (h.name && h.mac) line = `${h.mac},${ip},${h.name}`;
  else if (h.name) line = `${h.name},${ip}`;
  else line = `${h.mac ?? ''},${ip}`;
  const lease = dnsmasqLeaseTime(h.lease);
  return lease ? `${line},${lease}` : line;
}

/** Whether a network with this definition runs dnsmasq (libvirt networkStartDhcpDaemon). */
export function networkNeedsDnsmasq(def: NetworkDef): boolean {
  if (def.ip.length === 0) return false;
  return def.ip.some(hasDhcp) || def.dns?.enable !== false;
}

/**
 * The configuration libvirt's networkDnsmasqConfContents produces (same options, same order), for
 * a dnsmasq that supports bind-dynamic and router advertisements, plus the lease file option.
 */
export function dnsmasqConfig(def: NetworkDef, paths: DnsmasqPaths): DnsmasqFiles {
  const bridge = def.bridge?.name ?? '';
  const c: string[] = [
    '## tsvirt: dnsmasq configuration of the virtual network',
    `##   ${def.name}`,
    '## generated from the network definition; change the network (net-edit), not this file.',
    'strict-order',
  ];
  const dns = def.dns;
  const wantDns = dns?.enable !== false;
  if (!wantDns) c.push('port=0');

  if (wantDns && dns && dns.forwarder.length) {
    let noResolv = false;
    for (const f of dns.forwarder) {
      let line = 'server=';
      if (f.domain) line += `/${f.domain}/`;
      if (f.addr) {
        line += f.addr;
        if (!f.domain) noResolv = true;
      } else line += '#';
      c.push(line);
    }
    if (noResolv) c.push('no-resolv');
  }

  if (def.domain?.name !== undefined) {
    if (def.domain.localOnly === true) c.push(`local=/${def.domain.name}/`);
    c.push(`domain=${def.domain.name}`, 'expand-hosts');
  }

  if (wantDns) {
    for (const ip of def.ip) {
      if (ip.localPtr !== true) continue;
      const addr = parseSocketAddr(ip.address)!;
      const prefix = ipPrefix(def, ip);
      const ptr = ptrDomain(addr, prefix);
      if (!ptr) {
        throw virtError(
          ErrorNumber.CONFIG_UNSUPPORTED,
          ErrorDomain.NETWORK,
          `PTR domain for ${addr.family === 4 ? 'IPv4' : 'IPv6'} network with prefix ${prefix} cannot be automatically created`,
          { object: def.name, element: 'ip', attribute: 'localPtr' },
        );
      }
      c.push(`local=/${ptr}/`);
    }
  }

  if (wantDns && dns?.forwardPlainNames === false) c.push('domain-needed', 'local=//');

  c.push(`pid-file=${paths.pidFile}`);
  c.push(`dhcp-leasefile=${paths.leaseFile}`);
  // bind-dynamic with only interface=: answer only on this bridge (CVE-2012-3411).
  c.push('except-interface=lo', 'bind-dynamic', `interface=${bridge}`);

  if (!def.forward) {
    // Isolated network: no default route to hand out, nothing to forward DNS queries to, and
    // router advertisements with a zero lifetime.
    c.push('dhcp-option=3', 'no-resolv', 'ra-param=*,0,0');
  }

  if (wantDns && dns) {
    for (const t of dns.txt) c.push(`txt-record=${t.name},${t.value}`);
    for (const s of dns.srv) {
      let line = `srv-host=_${s.service}._${s.protocol}`;
      if (s.domain) line += `.${s.domain}`;
      if (s.target && s.target !== '.') {
        line += `,${s.target}`;
        if (s.port || s.priority || s.weight) line += `,${s.port || 1}`;
        if (s.priority || s.weight) line += `,${s.priority ?? 0}`;
        if (s.weight) line += `,${s.weight}`;
      }
      c.push(line);
    }
  }

  let v4: NetworkIp | undefined;
  let v6: NetworkIp | undefined;
  let v6Slaac = false;
  for (const ip of def.ip) {
    const fam = ipFamily(ip);
    if (fam === 4 && hasDhcp(ip)) {
      if (v4) throw unsupported('For IPv4, multiple DHCP definitions cannot be specified.');
      v4 = ip;
    } else if (fam === 6) {
      if (hasDhcp(ip)) {
        if (v6) throw unsupported('For IPv6, multiple DHCP definitions cannot be specified.');
        v6 = ip;
      } else v6Slaac = true;
    }
  }
  void v6Slaac;

  const hosts: string[] = [];
  let leases = 0;
  for (const ip of [v4, v6]) {
    if (!ip) continue;
    const addr = parseSocketAddr(ip.address)!;
    const prefix = ipPrefix(def, ip);
    const dhcp = ip.dhcp!;
    for (const r of dhcp.range) {
      const start = parseSocketAddr(r.start, addr.family);
      const end = parseSocketAddr(r.end, addr.family);
      if (!start || !end) continue;
      let line = `dhcp-range=${formatSocketAddr(start)},${formatSocketAddr(end)},`;
      line += addr.family === 6 ? String(prefix) : formatSocketAddr(prefixToNetmask(prefix, 4)!);
      const lease = dnsmasqLeaseTime(r.lease);
      if (lease) line += `,${lease}`;
      c.push(line);
      leases += checkAddrRange(start, end, addr, prefix);
    }
    if (!dhcp.range.length && dhcp.host.length) {
      c.push(`dhcp-range=${formatSocketAddr(addr)},static${addr.family === 6 ? `,${prefix}` : ''}`);
    }
    for (const h of dhcp.host) {
      const line = hostLine(h, addr.family === 6);
      if (line !== undefined) hosts.push(line);
    }
    if (addr.family === 4) {
      c.push('dhcp-no-override', 'dhcp-authoritative');
      if (ip.tftp) c.push('enable-tftp', `tftp-root=${ip.tftp.root}`);
      if (dhcp.bootp) c.push(`dhcp-boot=${dhcp.bootp.file}${dhcp.bootp.server ? `,,${dhcp.bootp.server}` : ''}`);
    }
  }
  if (leases > 0) c.push(`dhcp-lease-max=${leases}`);

  // addn-hosts: one line per address, its names in order of appearance.
  const byIp = new Map<string, string[]>();
  for (const h of dns?.host ?? []) {
    const a = parseSocketAddr(h.ip);
    if (!a) continue;
    const key = formatSocketAddr(a);
    const names = byIp.get(key) ?? [];
    names.push(...h.hostname);
    byIp.set(key, names);
  }
  const addn = [...byIp].map(([ip, names]) => `${ip}\t${names.map((n) => `${n}\t`).join('')}\n`).join('');

  if (v4 || v6) c.push(`dhcp-hostsfile=${paths.hostsFile}`);
  if (wantDns) c.push(`addn-hosts=${paths.addnHostsFile}`);
  if (def.mtu) c.push(`dhcp-option=option:mtu,${def.mtu}`);
  if (v6) c.push('enable-ra');
  else {
    for (const ip of def.ip) if (ipFamily(ip) === 6 && !hasDhcp(ip)) c.push(`dhcp-range=${formatSocketAddr(parseSocketAddr(ip.address)!)},ra-only`);
  }
  for (const o of def.dnsmasqOptions ?? []) c.push(o);

  return { conf: `${c.join('\n')}\n`, hosts: hosts.map((h) => `${h}\n`).join(''), addnHosts: addn };
}

function unsupported(msg: string) {
  return virtError(ErrorNumber.CONFIG_UNSUPPORTED, ErrorDomain.NETWORK, msg);
}

// ---- the process -----------------------------------------------------------------------------

export interface DnsmasqOptions {
  /** The dnsmasq binary. Default /usr/sbin/dnsmasq when it exists, else 'dnsmasq' on PATH. */
  binary?: string;
  runner: CommandRunner;
}

function defaultDnsmasqBinary(): string {
  return existsSync('/usr/sbin/dnsmasq') ? '/usr/sbin/dnsmasq' : 'dnsmasq';
}

/** Reads a pid file: the pid, or null when there is none or it holds no number. */
export async function readPidFile(path: string): Promise<number | null> {
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch {
    return null;
  }
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

/**
 * Is `pid` a live dnsmasq running with `confPath`? (Guards against killing an unrelated process
 * that got the pid of a dnsmasq that has gone.) Zombies count as gone.
 */
export function isOurDnsmasq(pid: number, confPath: string): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return false;
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return args.includes(`--conf-file=${confPath}`);
  } catch {
    return false;
  }
}

/** Writes the files and starts dnsmasq; returns its pid. Nothing is left behind on failure. */
export async function startDnsmasq(opts: DnsmasqOptions, paths: DnsmasqPaths, files: DnsmasqFiles): Promise<number> {
  const binary = opts.binary ?? defaultDnsmasqBinary();
  const write = async (path: string, data: string, mode: number) => {
    try {
      await writeFileAtomic(path, data, mode);
    } catch (err) {
      throw fromSystemError(err, ErrorDomain.NETWORK, `couldn't write dnsmasq config file '${path}'`, { object: path });
    }
  };
  await write(paths.hostsFile, files.hosts, 0o644);
  await write(paths.addnHostsFile, files.addnHosts, 0o644);
  await write(paths.conf, files.conf, 0o600);
  await fs.rm(paths.pidFile, { force: true });
  const args = [`--conf-file=${paths.conf}`];
  // dnsmasq daemonizes; its first process exits only after the daemon has written the pid
  // file, or with an error when it cannot start (e.g. a bad option).
  const res = await runCommand(opts.runner, binary, args, { allowFailure: true });
  if (res.status !== 0) {
    await removeDnsmasqFiles(paths);
    throw commandFailure(binary, args, res);
  }
  const pid = await readPidFile(paths.pidFile);
  if (pid === null) {
    await removeDnsmasqFiles(paths);
    throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.NETWORK, `dnsmasq did not write its pid file '${paths.pidFile}'`, {
      object: paths.pidFile,
    });
  }
  return pid;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SIGTERM, then SIGKILL after `graceMs`; only if `pid` still is this network's dnsmasq. */
export async function stopDnsmasq(pid: number | null, paths: DnsmasqPaths, graceMs = 2000): Promise<void> {
  if (pid !== null && isOurDnsmasq(pid, paths.conf)) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
    const deadline = Date.now() + graceMs;
    while (isOurDnsmasq(pid, paths.conf) && Date.now() < deadline) await sleep(20);
    if (isOurDnsmasq(pid, paths.conf)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  await removeDnsmasqFiles(paths);
}

/** The files start made, except the lease file (leases outlive a restart of the network). */
async function removeDnsmasqFiles(paths: DnsmasqPaths): Promise<void> {
  for (const p of [paths.conf, paths.hostsFile, paths.addnHostsFile, paths.pidFile]) await fs.rm(p, { force: true });
}

// ---- leases ----------------------------------------------------------------------------------

/** One lease from dnsmasq's lease file. */
export interface DnsmasqLease {
  /** seconds since the epoch; 0 = infinite */
  expiry: number;
  type: 4 | 6;
  /** null for DHCPv6 leases whose client DUID does not carry a MAC */
  mac: string | null;
  /** DHCPv6 only */
  iaid: string | null;
  ip: string;
  hostname: string | null;
  /** IPv4 client id, or the DHCPv6 client DUID */
  clientId: string | null;
}

/** The MAC in a DUID-LLT (type 1) or DUID-LL (type 3) of Ethernet (hw type 1), else null. */
function macFromDuid(duid: string): string | null {
  const bytes = duid.split(':').map((h) => parseInt(h, 16));
  if (bytes.some((b) => Number.isNaN(b))) return null;
  const type = (bytes[0]! << 8) | bytes[1]!;
  const hw = (bytes[2]! << 8) | bytes[3]!;
  if (hw !== 1) return null;
  const mac = type === 1 && bytes.length === 14 ? bytes.slice(8) : type === 3 && bytes.length === 10 ? bytes.slice(4) : null;
  return mac ? mac.map((b) => b.toString(16).padStart(2, '0')).join(':') : null;
}

/**
 * Parses dnsmasq's lease file: IPv4 lines "expiry mac ip hostname clientid", then after a
 * "duid <server duid>" line the IPv6 ones "expiry iaid ip hostname client-duid" ("*" = none).
 */
export function parseDnsmasqLeases(text: string): DnsmasqLease[] {
  const out: DnsmasqLease[] = [];
  let v6 = false;
  for (const raw of text.split('\n')) {
    const f = raw.trim().split(/\s+/);
    if (f[0] === 'duid') {
      v6 = true;
      continue;
    }
    if (f.length < 3) continue;
    const expiry = Number(f[0]);
    if (!Number.isFinite(expiry)) continue;
    const none = (s: string | undefined) => (s === undefined || s === '*' ? null : s);
    if (!v6) {
      out.push({ expiry, type: 4, mac: f[1]!.toLowerCase(), iaid: null, ip: f[2]!, hostname: none(f[3]), clientId: none(f[4]) });
    } else {
      const duid = none(f[4]);
      // "T" prefixes a temporary address's IAID.
      out.push({ expiry, type: 6, mac: duid ? macFromDuid(duid) : null, iaid: f[1]!.replace(/^T/, ''), ip: f[2]!, hostname: none(f[3]), clientId: duid });
    }
  }
  return out;
}
