// Which calls a read-only connection may not make, as libvirt's public API decides it: the
// functions that check for read-only connections, and the XML getters that refuse only their
// secure flags. Used by the server (to refuse) and the client (which refuses locally, as
// libvirt's client library does).
import { ErrorDomain, ErrorNumber, virtError, type VirtError } from '../errors/index.js';
import * as P from './protocol.js';

const Proc = P.Procedure;

const flagRules: ReadonlyMap<number, { mask: number; domain: number; message: string }> = new Map([
  [Proc.DOMAIN_GET_XML_DESC, { mask: 1 | 8, domain: ErrorDomain.DOMAIN, message: 'virDomainGetXMLDesc with secure flag' }],
  [Proc.DOMAIN_MANAGED_SAVE_GET_XML_DESC, { mask: 1, domain: ErrorDomain.DOMAIN, message: 'virDomainManagedSaveGetXMLDesc with secure flag' }],
  [Proc.DOMAIN_SNAPSHOT_GET_XML_DESC, { mask: 1, domain: ErrorDomain.DOMAIN_SNAPSHOT, message: 'virDomainSnapshotGetXMLDesc with secure flag' }],
  [Proc.DOMAIN_CHECKPOINT_GET_XML_DESC, { mask: 1, domain: ErrorDomain.DOMAIN_CHECKPOINT, message: 'virDomainCheckpointGetXMLDesc with secure flag' }],
]);

/** The error a read-only connection gets for this call, or null when it is allowed. */
export function readonlyRefusal(info: P.ProcedureInfo, args: unknown): VirtError | null {
  if (info.readonlyDenied) {
    return virtError(ErrorNumber.OPERATION_DENIED, info.apiDomain, `read only access prevents ${info.api}`, { object: info.api ?? info.name });
  }
  const rule = flagRules.get(info.proc);
  if (rule && ((args as { flags?: number }).flags ?? 0) & rule.mask) return virtError(ErrorNumber.OPERATION_DENIED, rule.domain, rule.message);
  return null;
}
