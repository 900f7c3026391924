// How the shell finds the domain or network an argument names (virshCommandOptDomainBy,
// virshCommandOptNetworkBy): by id when it is a number, by UUID when it has a UUID's length,
// else by name; a failed lookup is one `error: failed to get domain 'x'` line, not libvirt's.
import type { Domain, Network } from '../api/index.js';
import type { ParsedCommand } from './commandDef.js';
import type { Shell } from './shell.js';

export const BY_ID = 1;
export const BY_UUID = 2;
export const BY_NAME = 4;
const BY_ALL = BY_ID | BY_UUID | BY_NAME;

export async function lookupDomain(
  sh: Shell,
  cmd: ParsedCommand,
  by = BY_ALL,
  opt = 'domain',
): Promise<{ dom: Domain; name: string } | null> {
  const n = sh.optString(cmd, opt);
  if (n === undefined) return null;
  const conn = sh.conn;
  let dom: Domain | undefined;
  // virStrToLong_i: leading blanks and a sign, then digits to the end (no trailing blanks).
  if (by & BY_ID && /^\s*[+-]?\d+$/.test(n) && Number(n) >= 0 && Number(n) <= 0x7fffffff) {
    dom = await conn.domainLookupByID(Number(n)).catch(() => undefined);
  }
  if (!dom && by & BY_UUID && n.length === 36) dom = await conn.domainLookupByUUIDString(n).catch(() => undefined);
  if (!dom && by & BY_NAME) dom = await conn.domainLookupByName(n).catch(() => undefined);
  if (!dom) {
    sh.error(`failed to get domain '${n}'`);
    return null;
  }
  return { dom, name: n };
}

export async function lookupNetwork(sh: Shell, cmd: ParsedCommand, opt = 'network'): Promise<{ net: Network; name: string } | null> {
  const n = sh.optString(cmd, opt);
  if (n === undefined) return null;
  const conn = sh.conn;
  let net: Network | undefined;
  let err: unknown;
  const attempt = (p: Promise<Network>): Promise<Network | undefined> =>
    p.catch((e: unknown) => {
      err = e;
      return undefined;
    });
  if (n.length === 36) net = await attempt(conn.networkLookupByUUIDString(n));
  if (!net) net = await attempt(conn.networkLookupByName(n));
  if (!net) {
    // Unlike domains, virsh keeps libvirt's lookup error for networks and prints it after.
    sh.fail(`failed to get network '${n}'`, err);
    return null;
  }
  return { net, name: n };
}
