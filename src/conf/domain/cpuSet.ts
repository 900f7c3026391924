// CPU and NUMA node sets ("0-3,^2,8"): libvirt's bitmap text (conf/bitmap.ts) limited to the
// CPU numbers a domain may name.
import { formatBitmap, parseBitmap } from '../bitmap.js';

/** VIR_DOMAIN_CPUMASK_LEN: the highest CPU number + 1 a set may hold. */
export const CPUMASK_LEN = 4096;

/** Parses a set; returns its members ascending. Errors are libvirt's INVALID_ARG. */
export function parseCpuSet(str: string, limit = CPUMASK_LEN): number[] {
  return parseBitmap(str, limit);
}

/** virBitmapFormat: ascending, consecutive runs as ranges. */
export function formatCpuSet(bits: readonly number[]): string {
  return formatBitmap(bits);
}
