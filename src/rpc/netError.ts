// The error body of a failed reply (virNetMessageError, the same layout as remote_error) and
// its exact conversion to and from VirtError: code, domain, message, level, str1-3, int1-2 go
// over the wire field for field, so a client sees what the server raised.
import { ErrorDomain, ErrorLevel, ErrorNumber, VirtError, virtError } from '../errors/index.js';
import * as x from './xdr.js';
import type { Codec } from './xdr.js';
import { MESSAGE_STRING_MAX } from './message.js';

interface NonnullDomain {
  name: string;
  uuid: string;
  id: number;
}
interface NonnullNetwork {
  name: string;
  uuid: string;
}

const NonnullString = x.string(MESSAGE_STRING_MAX);
const OptString = x.optional(NonnullString);
const NonnullDomain: Codec<NonnullDomain> = x.struct([
  ['name', NonnullString],
  ['uuid', x.uuid],
  ['id', x.int],
]);
const NonnullNetwork: Codec<NonnullNetwork> = x.struct([
  ['name', NonnullString],
  ['uuid', x.uuid],
]);

/** virNetMessageError */
export interface NetMessageError {
  code: number;
  domain: number;
  message: string | null;
  level: number;
  dom: NonnullDomain | null;
  str1: string | null;
  str2: string | null;
  str3: string | null;
  int1: number;
  int2: number;
  net: NonnullNetwork | null;
}

export const NetMessageError: Codec<NetMessageError> = x.struct<NetMessageError>([
  ['code', x.int],
  ['domain', x.int],
  ['message', OptString],
  ['level', x.int],
  ['dom', x.optional(NonnullDomain)],
  ['str1', OptString],
  ['str2', OptString],
  ['str3', OptString],
  ['int1', x.int],
  ['int2', x.int],
  ['net', x.optional(NonnullNetwork)],
]);

/** A received error body as the VirtError a caller catches. */
export function netErrorToVirtError(e: NetMessageError): VirtError {
  return new VirtError({
    code: e.code,
    domain: e.domain,
    // libvirt prints a fixed text when the server sent none.
    message: e.message ?? 'Library function returned error but did not set virError',
    level: e.level,
    str1: e.str1,
    str2: e.str2,
    str3: e.str3,
    int1: e.int1,
    int2: e.int2,
  });
}

const int32 = (n: number): number => (Number.isInteger(n) && n >= -0x80000000 && n <= 0x7fffffff ? n : -1);

/**
 * The error body for anything a handler threw. A VirtError goes over as it is; anything else is
 * an internal error (the daemon never leaks a JavaScript stack, and never crashes on it).
 */
export function virtErrorToNetError(err: unknown): NetMessageError {
  const e =
    err instanceof VirtError
      ? err
      : virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.RPC, err instanceof Error ? err.message : String(err));
  return {
    code: e.code,
    domain: e.domain,
    message: e.message,
    level: e.level ?? ErrorLevel.ERROR,
    dom: null,
    str1: e.str1,
    str2: e.str2,
    str3: e.str3,
    int1: int32(e.int1),
    int2: int32(e.int2),
    net: null,
  };
}

/** An RPC-layer error (code RPC, domain RPC) as libvirt raises for protocol faults. */
export function rpcError(message: string): VirtError {
  return virtError(ErrorNumber.RPC, ErrorDomain.RPC, message);
}
