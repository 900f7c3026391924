import { ErrorNumber, virtError } from '../errors/index.js';

/**
 * Refuses flag bits a call does not know, as libvirt's virCheckFlags:
 * INVALID_ARG "unsupported flags (0x4) in function virDomainCreateWithFlags".
 */
export function checkFlags(flags: number, allowed: number, fn: string, domain: number): void {
  const extra = (flags >>> 0) & ~(allowed >>> 0);
  if (extra !== 0) {
    throw virtError(ErrorNumber.INVALID_ARG, domain, `unsupported flags (0x${(extra >>> 0).toString(16)}) in function ${fn}`, {
      value: `0x${(flags >>> 0).toString(16)}`,
      object: fn,
    });
  }
}
