import {
  ErrorDomain,
  ErrorLevel,
  ErrorNumber,
  errorDomainName,
  errorNumberName,
  errorTemplates,
} from './errorCodes.js';
import { errnoByName, strerror } from './errno.js';

/** What an error is about, so callers need not parse the message. */
export interface ErrorFault {
  /** XML element at fault, e.g. 'interface/mac'. */
  element?: string;
  /** Attribute of that element, e.g. 'address'. */
  attribute?: string;
  /** The offending value as given. */
  value?: string;
  /** Object involved: a domain, network, device or procedure name. */
  object?: string;
  /** 1-based position in an XML document. */
  line?: number;
  column?: number;
  /** errno of a system error. */
  errno?: number;
}

/** The fields libvirt's virError carries over the wire (remote_error). */
export interface VirtErrorFields {
  code: number;
  domain: number;
  message: string;
  level?: number;
  str1?: string | null;
  str2?: string | null;
  str3?: string | null;
  int1?: number;
  int2?: number;
  fault?: ErrorFault;
}

// A brand shared by every copy of this module, so `instanceof VirtError` holds even when two
// copies of tsvirt are loaded (as undici does for its errors).
const brand = Symbol.for('tsvirt.VirtError');

/** Every error tsvirt raises: libvirt's error number, error domain and message. */
export class VirtError extends Error {
  readonly code: number;
  readonly domain: number;
  readonly level: number;
  readonly str1: string | null;
  readonly str2: string | null;
  readonly str3: string | null;
  readonly int1: number;
  readonly int2: number;
  readonly fault: ErrorFault;

  constructor(fields: VirtErrorFields, options?: { cause?: unknown }) {
    super(fields.message, options);
    this.code = fields.code;
    this.domain = fields.domain;
    this.level = fields.level ?? ErrorLevel.ERROR;
    this.str1 = fields.str1 ?? null;
    this.str2 = fields.str2 ?? null;
    this.str3 = fields.str3 ?? null;
    this.int1 = fields.int1 ?? -1;
    this.int2 = fields.int2 ?? -1;
    this.fault = fields.fault ?? {};
  }

  override get name(): string {
    return 'VirtError';
  }

  /** 'NO_DOMAIN' for code 42. */
  get codeName(): string {
    return errorNumberName(this.code);
  }

  /** 'QEMU' for domain 10. */
  get domainName(): string {
    return errorDomainName(this.domain);
  }

  get [brand](): true {
    return true;
  }

  static override [Symbol.hasInstance](obj: unknown): boolean {
    return typeof obj === 'object' && obj !== null && (obj as Record<symbol, unknown>)[brand] === true;
  }
}

/**
 * Builds an error the way libvirt's virReportError does: the message is the number's template
 * with `detail` substituted ("Domain not found: no domain with matching name 'x'"); str1 keeps
 * the template and str2 the detail.
 */
export function virtError(
  code: number,
  domain: number,
  detail?: string,
  fault?: ErrorFault,
  options?: { cause?: unknown },
): VirtError {
  const tpl = errorTemplates[code] ?? ['unknown error', 'unknown error: %s'];
  // A replacer function: a string replacement would expand `$&`, `$'`… found in the detail.
  const message = detail ? tpl[1].replace('%s', () => detail) : tpl[0];
  return new VirtError(
    {
      code,
      domain,
      message,
      str1: detail ? tpl[1] : tpl[0],
      str2: detail ?? null,
      fault,
    },
    options,
  );
}

/**
 * A failed system call, as libvirt's virReportSystemError: "<detail>: <strerror(errno)>",
 * code SYSTEM_ERROR, int1 = errno.
 */
export function systemError(
  domain: number,
  errnum: number,
  detail: string,
  fault?: ErrorFault,
  options?: { cause?: unknown },
): VirtError {
  const message = `${detail}: ${strerror(errnum)}`;
  return new VirtError(
    {
      code: ErrorNumber.SYSTEM_ERROR,
      domain,
      message,
      str1: '%s',
      str2: message,
      int1: errnum,
      fault: { ...fault, errno: errnum },
    },
    options,
  );
}

/** errno of a Node system error (`err.errno` is negative in Node; `err.code` is 'EPERM'). */
export function errnoOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { errno?: unknown; code?: unknown };
  if (typeof e.errno === 'number') return Math.abs(e.errno);
  if (typeof e.code === 'string') return errnoByName(e.code);
  return undefined;
}

/**
 * Wraps a Node system error (fs, net, child_process) as a libvirt system error; anything that
 * is already a VirtError passes through unchanged.
 */
export function fromSystemError(err: unknown, domain: number, detail: string, fault?: ErrorFault): VirtError {
  if (err instanceof VirtError) return err;
  const errnum = errnoOf(err);
  if (errnum !== undefined) return systemError(domain, errnum, detail, fault, { cause: err });
  const why = err instanceof Error ? err.message : String(err);
  return virtError(ErrorNumber.INTERNAL_ERROR, domain, `${detail}: ${why}`, fault, { cause: err });
}

export { ErrorDomain, ErrorLevel, ErrorNumber };
