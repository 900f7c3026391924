// Which definition a call with VIR_DOMAIN_AFFECT_{CURRENT,LIVE,CONFIG} flags reads or changes,
// as libvirt's virDomainObjUpdateModificationImpact and virDomainObjGetOneDef decide it. The
// local drivers share these, so every such call refuses alike: libvirt reports these errors
// from its domain conf code, hence error domain DOMAIN whatever the driver.
import { ErrorDomain, ErrorNumber, VirtError, virtError } from '../errors/index.js';
import { DomainModificationImpact } from './constants.js';

const { LIVE, CONFIG } = DomainModificationImpact;

/** What the rule needs to know of a domain object. */
export interface ImpactSubject {
  readonly active: boolean;
  readonly persistent: boolean;
}

/**
 * virDomainObjUpdateModificationImpact: CURRENT becomes LIVE on a running domain, else CONFIG;
 * LIVE on a shut-off domain and CONFIG on a transient one are OPERATION_INVALID.
 */
export function modificationImpact(obj: ImpactSubject, flags: number): { live: boolean; config: boolean } {
  let live = (flags & LIVE) !== 0;
  let config = (flags & CONFIG) !== 0;
  if (!live && !config) {
    if (obj.active) live = true;
    else config = true;
  }
  if (live && !obj.active) throw virtError(ErrorNumber.OPERATION_INVALID, ErrorDomain.DOMAIN, 'domain is not running');
  if (config && !obj.persistent) {
    throw virtError(ErrorNumber.OPERATION_INVALID, ErrorDomain.DOMAIN, 'transient domains do not have any persistent config');
  }
  return { live, config };
}

/**
 * virDomainObjGetOneDef: the live definition, or the persistent one (newDef while running).
 * LIVE and CONFIG together are INVALID_ARG, reported as virReportInvalidArg does (the text alone).
 */
export function oneDef<D>(obj: ImpactSubject & { readonly def: D; readonly newDef?: D | null }, flags: number): D {
  if ((flags & LIVE) !== 0 && (flags & CONFIG) !== 0) {
    const message = "Flags 'VIR_DOMAIN_AFFECT_LIVE' and 'VIR_DOMAIN_AFFECT_CONFIG' are mutually exclusive";
    throw new VirtError({ code: ErrorNumber.INVALID_ARG, domain: ErrorDomain.DOMAIN, message, str1: message });
  }
  const { config } = modificationImpact(obj, flags);
  if (config && obj.active && obj.newDef) return obj.newDef;
  return obj.def;
}
