// Firewall rules of a libvirt-style virtual network, with nftables.
//
// libvirt 9.0 writes these rules with iptables into shared LIBVIRT_* chains; newer libvirt has
// an nftables backend with one private table per address family. tsvirt uses nftables and gives
// every network its own `inet` table named after the bridge (tsvirt_<bridge>): starting a network
// loads that table in one atomic `nft -f` transaction (replacing a leftover one, so it is
// idempotent), stopping it deletes the table, which removes exactly what the start added and
// nothing of any other network or program. Each rule matches only the network's own bridge, so
// separate tables decide exactly as one shared table would (a reject in any table's forward
// chain is final; an accept only ends that table's chain).
//
// The rules are libvirt's (its nftables backend, translated to the inet family):
//   guest_output  traffic from the bridge: allowed from the network's own subnet, else rejected
//   guest_input   traffic to the bridge: allowed when related to an outgoing connection (nat) or
//                 addressed to the subnet (route), else rejected
//   guest_cross   guest to guest on the same bridge: allowed
//   guest_nat     masquerading (nat), not for local multicast and broadcast, with source ports
//                 mapped to 1024-65535 for tcp and udp
// Not carried over: iptables' CHECKSUM fill for DHCP replies (newer libvirt uses a tc csum
// action for it; only old guests with vhost-net need it) and the INPUT/OUTPUT accepts for DHCP
// and DNS (redundant with accepting chains).
import { ErrorDomain, ErrorNumber, virtError } from '../../errors/index.js';
import {
  formatSocketAddr,
  ipPrefixOf,
  maskByPrefix,
  parseSocketAddr,
  type SocketAddr,
} from '../../conf/network/socketAddr.js';
import type { NetworkDef, NetworkIp } from '../../conf/network/index.js';
import { type CommandRunner, commandFailure, runCommand, spawnCommandRunner } from './commandRunner.js';

export interface NetworkFirewallOptions {
  /** The nft binary: a name on PATH or an absolute path. Default 'nft'. */
  nftBinary?: string;
  runner?: CommandRunner;
}

const LOCAL_MULTICAST_V4 = '224.0.0.0/24';
const LOCAL_MULTICAST_V6 = 'ff02::/16';
const LOCAL_BROADCAST = '255.255.255.255';

/** The table of the network on `bridge`: "tsvirt_" + the bridge name, other characters as _xx. */
export function firewallTableName(bridge: string): string {
  let out = '';
  for (const ch of Buffer.from(bridge, 'utf8')) {
    const c = String.fromCharCode(ch);
    out += /[A-Za-z0-9]/.test(c) ? c : `_${ch.toString(16).padStart(2, '0')}`;
  }
  return `tsvirt_${out}`;
}

/** A double-quoted nft string (interface names, comments). */
function q(s: string): string {
  return `"${s.replace(/[\\"]/g, '_')}"`;
}

interface IpNet {
  family: 4 | 6;
  /** network/prefix, masked */
  net: string;
  ip: NetworkIp;
}

function invalidPrefix(def: NetworkDef) {
  return virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.NETWORK, `Invalid prefix or netmask for '${def.bridge?.name ?? def.name}'`, {
    object: def.name,
  });
}

function ipNet(def: NetworkDef, ip: NetworkIp): IpNet {
  const addr = parseSocketAddr(ip.address);
  if (!addr) throw invalidPrefix(def);
  const mask = ip.netmask ? parseSocketAddr(ip.netmask, addr.family) : undefined;
  const prefix = ipPrefixOf(addr, mask, ip.prefix);
  if (prefix < 0) throw invalidPrefix(def);
  const masked = maskByPrefix(addr, prefix);
  if (!masked) throw invalidPrefix(def);
  return { family: addr.family, net: `${formatSocketAddr(masked)}/${prefix}`, ip };
}

function familyOf(ip: NetworkIp): 4 | 6 | undefined {
  return parseSocketAddr(ip.address)?.family;
}

function natAddress(a: string | undefined, family: 4 | 6): SocketAddr | undefined {
  if (!a) return undefined;
  const s = parseSocketAddr(a);
  return s && s.family === family ? s : undefined;
}

/** What the firewall of a network adds, as nft rule bodies per chain (evaluation order). */
export interface FirewallRules {
  table: string;
  output: string[];
  input: string[];
  cross: string[];
  /** undefined: no nat chain */
  nat: string[] | undefined;
}

/**
 * The rules of a network with forward mode none, nat or route. For nat with tcp/udp source port
 * mapping and no <port> configured, libvirt fills in 1024-65535 and shows it in the live XML;
 * this does the same to `def` (the live definition).
 */
export function networkFirewallRules(def: NetworkDef): FirewallRules {
  const bridge = def.bridge?.name;
  if (!bridge) {
    throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.NETWORK, `network '${def.name}' has no bridge name defined`, { object: def.name });
  }
  const br = q(bridge);
  const mode = def.forward?.mode ?? 'none';
  const fwdDev = mode === 'nat' || mode === 'route' ? def.forward?.interface[0]?.dev : undefined;
  const rules: FirewallRules = { table: firewallTableName(bridge), output: [], input: [], cross: [], nat: undefined };
  const nat: string[] = [];

  // libvirt inserts every rule at the head of its chain: the per-address rules (last address
  // first) end up before the catch-all rejects.
  const ips = def.ip.map((ip) => ipNet(def, ip)).reverse();
  for (const n of ips) {
    const fam = n.family === 4 ? 'ip' : 'ip6';
    const out = fwdDev ? ` oifname ${q(fwdDev)}` : '';
    const inn = fwdDev ? ` iifname ${q(fwdDev)}` : '';
    const innHead = fwdDev ? `iifname ${q(fwdDev)} ` : '';
    const masquerade = mode === 'nat' && (n.family === 4 || def.forward?.nat?.ipv6 === true);
    if (masquerade) {
      rules.output.push(`${fam} saddr ${n.net} iifname ${br}${out} counter accept`);
      rules.input.push(`${innHead}oifname ${br} ${fam} daddr ${n.net} ct state related,established counter accept`);
      nat.push(...masqueradeRules(def, n, fwdDev));
    } else if (mode === 'nat' || mode === 'route') {
      rules.output.push(`${fam} saddr ${n.net} iifname ${br}${out} counter accept`);
      rules.input.push(`${fam} daddr ${n.net}${inn} oifname ${br} counter accept`);
    }
  }
  // Catch-all rules: IPv4 always, IPv6 when the network has an IPv6 address or ipv6='yes'.
  const families: ('ipv4' | 'ipv6')[] = ['ipv4'];
  if (def.ip.some((ip) => familyOf(ip) === 6) || def.ipv6) families.push('ipv6');
  for (const f of families) {
    rules.output.push(`meta nfproto ${f} iifname ${br} counter reject`);
    rules.input.push(`meta nfproto ${f} oifname ${br} counter reject`);
    rules.cross.push(`meta nfproto ${f} iifname ${br} oifname ${br} counter accept`);
  }
  if (mode === 'nat') rules.nat = nat;
  return rules;
}

/** The 5 (IPv4) or 4 (IPv6) masquerading rules of one address, in evaluation order. */
function masqueradeRules(def: NetworkDef, n: IpNet, fwdDev: string | undefined): string[] {
  const fam = n.family === 4 ? 'ip' : 'ip6';
  const oif = fwdDev ? ` oifname ${q(fwdDev)}` : '';
  const oifHead = fwdDev ? `oifname ${q(fwdDev)} ` : '';
  const fwd = def.forward!;
  const start = natAddress(fwd.nat?.address?.start, n.family);
  const end = start ? natAddress(fwd.nat?.address?.end, n.family) : undefined;
  const rule = (proto: 'tcp' | 'udp' | undefined): string => {
    let ports = '';
    if (proto) {
      const nat = (fwd.nat ??= {});
      const port = (nat.port ??= { start: 0, end: 0 });
      if (port.start === 0 && port.end === 0) {
        port.start = 1024;
        port.end = 65535;
      }
      if (!(port.start < port.end && port.end < 65536)) {
        throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.NETWORK, `Invalid port range '${port.start}-${port.end}'.`, {
          element: 'forward/nat/port',
        });
      }
      ports = `:${port.start}-${port.end}`;
    }
    const head = `${proto ? `meta l4proto ${proto} ` : ''}${fam} saddr ${n.net} ${fam} daddr != ${n.net}${oif} counter`;
    if (start) {
      const range = end ? `${formatSocketAddr(start)}-${formatSocketAddr(end)}` : formatSocketAddr(start);
      return `${head} snat ${fam} to ${range}${ports}`;
    }
    return `${head} masquerade${ports ? ` to ${ports}` : ''}`;
  };
  const out: string[] = [];
  out.push(`${oifHead}${fam} saddr ${n.net} ${fam} daddr ${n.family === 4 ? LOCAL_MULTICAST_V4 : LOCAL_MULTICAST_V6} counter return`);
  if (n.family === 4) out.push(`${oifHead}${fam} saddr ${n.net} ${fam} daddr ${LOCAL_BROADCAST} counter return`);
  out.push(rule('tcp'), rule('udp'), rule(undefined));
  return out;
}

/** The nft script that (re)loads the network's table in one transaction. */
export function firewallScript(def: NetworkDef, rules: FirewallRules = networkFirewallRules(def)): string {
  const t = `inet ${rules.table}`;
  const lines = [
    // add+delete first: makes the load replace a leftover table instead of failing on it.
    `add table ${t}`,
    `delete table ${t}`,
    `table ${t} {`,
    `  comment ${q(`tsvirt network ${def.name}`)}`,
    '  chain forward {',
    '    type filter hook forward priority filter; policy accept;',
    '    counter jump guest_cross',
    '    counter jump guest_input',
    '    counter jump guest_output',
    '  }',
  ];
  const chain = (name: string, body: string[], hook?: string) => {
    lines.push(`  chain ${name} {`);
    if (hook) lines.push(`    ${hook}`);
    for (const r of body) lines.push(`    ${r}`);
    lines.push('  }');
  };
  chain('guest_output', rules.output);
  chain('guest_input', rules.input);
  chain('guest_cross', rules.cross);
  if (rules.nat) chain('guest_nat', rules.nat, 'type nat hook postrouting priority srcnat; policy accept;');
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** Loads and removes network firewall tables with the nft program. */
export class NetworkFirewall {
  readonly nftBinary: string;
  readonly runner: CommandRunner;

  constructor(options: NetworkFirewallOptions = {}) {
    this.nftBinary = options.nftBinary ?? 'nft';
    this.runner = options.runner ?? spawnCommandRunner();
  }

  /** Loads (or replaces) the network's table; returns its name. */
  async apply(def: NetworkDef): Promise<string> {
    const rules = networkFirewallRules(def);
    await runCommand(this.runner, this.nftBinary, ['-f', '-'], { input: firewallScript(def, rules) });
    return rules.table;
  }

  /** Deletes the table of the network on `bridge`; a table that is not there is fine. */
  async remove(bridge: string): Promise<void> {
    const table = firewallTableName(bridge);
    const args = ['delete', 'table', 'inet', table];
    const res = await runCommand(this.runner, this.nftBinary, args, { allowFailure: true });
    if (res.status !== 0 && !/No such file or directory/.test(res.stderr)) throw commandFailure(this.nftBinary, args, res);
  }

  /** Whether the table of `bridge` is loaded. */
  async exists(bridge: string): Promise<boolean> {
    const res = await runCommand(this.runner, this.nftBinary, ['list', 'table', 'inet', firewallTableName(bridge)], { allowFailure: true });
    return res.status === 0;
  }
}
