// virDomainObjListAddLocked's clash checks, made in libvirt's domain object list (error domain
// DOMAIN) for every driver that defines or creates domains.
import { ErrorDomain, ErrorNumber, virtError } from '../../errors/index.js';

/** What the checks read of a domain object. */
export interface AssignableDomain {
  readonly name: string;
  readonly uuid: string;
  readonly active: boolean;
  readonly persistent: boolean;
}

/**
 * The same UUID under another name, or the same name under another UUID, is refused; `live`
 * (createXML) also refuses a domain of that UUID that is running or being started. Returns the
 * object with the definition's UUID (which the definition replaces), or undefined.
 */
export function checkDomainAssignDef<O>(
  def: { readonly name: string; readonly uuid: string },
  live: boolean,
  byUUID: (uuid: string) => O | undefined,
  byName: (name: string) => O | undefined,
  facts: (obj: O) => AssignableDomain,
): O | undefined {
  const same = byUUID(def.uuid);
  if (same) {
    const s = facts(same);
    if (s.name !== def.name) {
      throw virtError(ErrorNumber.OPERATION_FAILED, ErrorDomain.DOMAIN, `domain '${s.name}' is already defined with uuid ${s.uuid}`, {
        object: def.name,
        value: def.uuid,
      });
    }
    if (live && s.active) throw virtError(ErrorNumber.OPERATION_INVALID, ErrorDomain.DOMAIN, `domain '${s.name}' is already active`, { object: s.name });
    if (live && !s.persistent) {
      throw virtError(ErrorNumber.OPERATION_INVALID, ErrorDomain.DOMAIN, `domain '${s.name}' is already being started`, { object: s.name });
    }
    return same;
  }
  const other = byName(def.name);
  if (other) {
    throw virtError(ErrorNumber.OPERATION_FAILED, ErrorDomain.DOMAIN, `domain '${def.name}' already exists with uuid ${facts(other).uuid}`, {
      object: def.name,
      value: facts(other).uuid,
    });
  }
  return undefined;
}
