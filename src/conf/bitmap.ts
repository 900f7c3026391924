// libvirt's bitmap text (virBitmapParse, virBitmapFormat): members and ranges, "^n" taking one
// out again ("0-3,^2,8"); the canonical form lists ascending ranges ("0-1,3,8"). CPU and NUMA
// node sets use it, and so does a network's status file for its tc class ids.
import { ErrorDomain, ErrorNumber, virtError } from '../errors/index.js';

const isSpace = (c: string | undefined): boolean => c === ' ' || (c !== undefined && c >= '\t' && c <= '\r');

/**
 * Parses a bitmap whose members are below `limit`; returns them ascending. Errors are libvirt's
 * INVALID_ARG "Failed to parse bitmap '…'".
 */
export function parseBitmap(str: string, limit: number): number[] {
  const fail = (): never => {
    throw virtError(ErrorNumber.INVALID_ARG, ErrorDomain.NONE, `Failed to parse bitmap '${str}'`, { value: str });
  };
  const bits = new Set<number>();
  let i = 0;
  const skip = (): void => {
    while (isSpace(str[i])) i++;
  };
  const num = (): number => {
    const m = /^[+-]?[0-9]+/.exec(str.slice(i));
    if (!m) fail();
    const v = Number(m![0]);
    if (v > 0x7fffffff) fail();
    i += m![0].length;
    return v;
  };
  skip();
  if (i >= str.length) fail();
  while (i < str.length) {
    let neg = false;
    if (str[i] === '^') {
      i++;
      neg = true;
    }
    if (!(str[i]! >= '0' && str[i]! <= '9')) fail();
    const start = num();
    if (start < 0) fail();
    skip();
    if (str[i] === ',' || i >= str.length) {
      if (start >= limit) fail();
      if (neg) bits.delete(start);
      else bits.add(start);
    } else if (str[i] === '-') {
      if (neg) fail();
      i++;
      skip();
      const last = num();
      if (last < start) fail();
      if (last >= limit) fail();
      for (let b = start; b <= last; b++) bits.add(b);
      skip();
    }
    if (str[i] === ',') {
      i++;
      skip();
    } else if (i >= str.length) break;
    else fail();
  }
  return [...bits].sort((a, b) => a - b);
}

/** virBitmapFormat: ascending, consecutive runs as ranges; duplicates and order do not matter. */
export function formatBitmap(members: Iterable<number>): string {
  const bits = [...new Set(members)].sort((a, b) => a - b);
  const parts: string[] = [];
  let k = 0;
  while (k < bits.length) {
    const start = bits[k]!;
    let end = start;
    while (k + 1 < bits.length && bits[k + 1] === end + 1) end = bits[++k]!;
    parts.push(start === end ? `${start}` : `${start}-${end}`);
    k++;
  }
  return parts.join(',');
}
