// virDomainSetInterfaceParameters / GetInterfaceParameters (virsh domiftune) as every driver
// needs them: the interface a device string names, the typed parameters that exist and their
// checks, and libvirt's rule for merging a set of them into the <bandwidth> an interface has.
// The drivers that tune interfaces share these, so all of them find, refuse and merge alike.
import type { DomainDef } from '../conf/domain/index.js';
import type { InterfaceDef } from '../conf/domain/interface.js';
import { macAddrEqual, parseMacAddr } from '../conf/macAddr.js';
import type { NetDevBandwidth, NetDevBandwidthRate } from '../conf/netdevBandwidth.js';
import { ErrorDomain, ErrorNumber, virtError } from '../errors/index.js';
import { TypedParameterType } from './constants.js';
import type { TypedParam } from './driver.js';

type Direction = 'inbound' | 'outbound';
type RateKey = keyof NetDevBandwidthRate;

/**
 * virDomainNetFind: the interface whose MAC the device string is, when it parses as a MAC
 * address, else the one whose host interface (target dev) it names; INVALID_ARG otherwise.
 */
export function findDomainNet(def: DomainDef, device: string): InterfaceDef {
  const nets = def.devices.interfaces ?? [];
  const mac = parseMacAddr(device);
  const found = mac ? nets.find((n) => macAddrEqual(n.mac.address, mac)) : nets.find((n) => n.target?.dev === device);
  if (!found) throw virtError(ErrorNumber.INVALID_ARG, ErrorDomain.DOMAIN, `'${device}' is not a known interface`, { value: device });
  return found;
}

/** virDomainGetInterfaceParameters' fields in libvirt's order, with where each lives. */
export const BANDWIDTH_PARAM_FIELDS: readonly (readonly [field: string, dir: Direction, key: RateKey])[] = [
  ['inbound.average', 'inbound', 'average'],
  ['inbound.peak', 'inbound', 'peak'],
  ['inbound.burst', 'inbound', 'burst'],
  ['inbound.floor', 'inbound', 'floor'],
  ['outbound.average', 'outbound', 'average'],
  ['outbound.peak', 'outbound', 'peak'],
  ['outbound.burst', 'outbound', 'burst'],
];

const KNOWN_FIELDS = new Set(BANDWIDTH_PARAM_FIELDS.map(([f]) => f));

/** virTypedParameterType names, as libvirt prints them in its errors. */
const TYPE_NAMES: Record<number, string> = { 1: 'int', 2: 'uint', 3: 'llong', 4: 'ullong', 5: 'double', 6: 'boolean', 7: 'string' };

/**
 * virTypedParamsValidate for the bandwidth fields: an unknown field or one that is not a uint is
 * INVALID_ARG (error domain NONE, as libvirt's util code reports it), naming the field.
 */
export function checkBandwidthParams(params: readonly TypedParam[]): void {
  for (const p of params) {
    if (!KNOWN_FIELDS.has(p.field)) {
      throw virtError(ErrorNumber.INVALID_ARG, ErrorDomain.NONE, `parameter '${p.field}' not supported`, { value: p.field });
    }
    if (p.type !== TypedParameterType.UINT) {
      throw virtError(
        ErrorNumber.INVALID_ARG,
        ErrorDomain.NONE,
        `invalid type '${TYPE_NAMES[p.type] ?? p.type}' for parameter '${p.field}', expected 'uint'`,
        { value: p.field },
      );
    }
  }
}

/**
 * libvirt's merge: a direction given with an average (or, inbound, a floor) replaces the old
 * one; a direction whose average (or inbound floor) is given as 0 is cleared; a direction not
 * given stays. Peak and burst alone do not make a direction. undefined = no bandwidth left.
 */
export function mergeBandwidthParams(cur: NetDevBandwidth | undefined, params: readonly TypedParam[]): NetDevBandwidth | undefined {
  const get = (f: string): bigint | undefined => {
    const p = params.find((x) => x.field === f);
    return p === undefined ? undefined : BigInt(p.value as number | bigint);
  };
  const given = (dir: Direction): NetDevBandwidthRate => {
    const r: NetDevBandwidthRate = {};
    for (const k of ['average', 'peak', 'burst', 'floor'] as const) {
      const v = get(`${dir}.${k}`);
      if (v) r[k] = v;
    }
    return r;
  };
  const inb = given('inbound');
  const outb = given('outbound');
  const inSpecified = get('inbound.average') !== undefined || get('inbound.floor') !== undefined;
  const outSpecified = get('outbound.average') !== undefined;
  const next: NetDevBandwidth = { ...(cur ?? {}) };
  if (inb.average || inb.floor) next.inbound = inb;
  else if (inSpecified) delete next.inbound;
  if (outb.average) next.outbound = outb;
  else if (outSpecified) delete next.outbound;
  return next.inbound || next.outbound ? next : undefined;
}

/** The fields virDomainGetInterfaceParameters reports for a bandwidth (0 where unset). */
export function bandwidthToParams(bw: NetDevBandwidth | undefined): TypedParam[] {
  return BANDWIDTH_PARAM_FIELDS.map(([field, dir, key]) => ({ field, type: TypedParameterType.UINT, value: Number(bw?.[dir]?.[key] ?? 0) }));
}
