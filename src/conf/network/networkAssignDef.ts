// virNetworkObjAssignDef's clash checks, which libvirt makes in its network object list for
// every driver that defines or creates networks: the test driver and the network driver call
// this one copy, so both refuse alike.
import { ErrorDomain, ErrorNumber, virtError } from '../../errors/index.js';
import type { NetworkDef } from './networkDef.js';

/** What the checks read of a network object. */
export interface AssignableNetwork {
  readonly def: { readonly name: string; readonly uuid: string };
  readonly active: boolean;
}

/**
 * A UUID that names another network, a name held by a network with another UUID, and (`live`,
 * for createXML) a running network of that UUID are refused. Returns the object the definition
 * replaces (same UUID and name), or undefined for a new network.
 */
export function checkNetworkAssignDef<O extends AssignableNetwork>(
  def: NetworkDef,
  live: boolean,
  byUUID: (uuid: string) => O | undefined,
  byName: (name: string) => O | undefined,
): O | undefined {
  const same = byUUID(def.uuid);
  if (same) {
    if (same.def.name !== def.name) {
      throw virtError(ErrorNumber.OPERATION_FAILED, ErrorDomain.NETWORK, `network '${same.def.name}' is already defined with uuid ${same.def.uuid}`, {
        object: def.name,
        value: def.uuid,
      });
    }
    if (live && same.active) {
      throw virtError(ErrorNumber.OPERATION_INVALID, ErrorDomain.NETWORK, `network is already active as '${same.def.name}'`, { object: def.name });
    }
    return same;
  }
  const other = byName(def.name);
  if (other) {
    throw virtError(ErrorNumber.OPERATION_FAILED, ErrorDomain.NETWORK, `network '${def.name}' already exists with uuid ${other.def.uuid}`, {
      object: def.name,
      value: other.def.uuid,
    });
  }
  return undefined;
}
