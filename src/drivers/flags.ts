import { ErrorNumber, VirtError } from '../errors/index.js';

/**
 * Refuses flag bits a call does not know, as libvirt's virCheckFlags:
 * INVALID_ARG "unsupported flags (0x4) in function virDomainCreateWithFlags" (no "invalid argument:"
 * prefix: libvirt reports it with virReportInvalidArg).
 */
export function checkFlags(flags: number, allowed: number, fn: string, domain: number): void {
  const extra = (flags >>> 0) & ~(allowed >>> 0);
  if (extra !== 0) {
    // virReportInvalidArg: the message is the text itself, without "invalid argument: ".
    const message = `unsupported flags (0x${(extra >>> 0).toString(16)}) in function ${fn}`;
    throw new VirtError({
      code: ErrorNumber.INVALID_ARG,
      domain,
      message,
      str1: message,
      fault: { value: `0x${(flags >>> 0).toString(16)}`, object: fn },
    });
  }
}

/**
 * Refuses a negative count or id, as libvirt's public API (virCheckNonNegativeArg): INVALID_ARG
 * "maxnames in virConnectListNetworks must be zero or greater", without the "invalid argument: "
 * prefix.
 */
export function checkNonNegativeArg(name: string, value: number, fn: string, domain: number): void {
  if (Number.isInteger(value) && value >= 0) return;
  const message = `${name} in ${fn} must be zero or greater`;
  throw new VirtError({ code: ErrorNumber.INVALID_ARG, domain, message, str1: message, fault: { value: String(value), object: fn } });
}
