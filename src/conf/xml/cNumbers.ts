// Integer parsing with the semantics of C's strtol/strtoul as libvirt's virStrToLong_* use them:
// leading whitespace and a sign are accepted, base 0 means "0x" hex / "0" octal / decimal, and
// the whole string must be consumed. libvirt's XML accepts exactly what these accept, so
// " 12" and "0x1f" are valid where libvirt takes them and "12k" is not.

const DIGIT_RE: Record<number, RegExp> = {
  8: /^[0-7]+/,
  10: /^[0-9]+/,
  16: /^[0-9a-fA-F]+/,
};

/**
 * Parses `s` like strtoull/strtoll with `base` (0, 8, 10 or 16) and returns the value with its
 * sign, or undefined when the text is not a complete number. No range check is done here.
 */
export function parseCInteger(s: string, base: 0 | 8 | 10 | 16): bigint | undefined {
  let i = 0;
  while (i < s.length && (s[i] === ' ' || (s[i]! >= '\t' && s[i]! <= '\r'))) i++;
  let neg = false;
  if (s[i] === '+' || s[i] === '-') {
    neg = s[i] === '-';
    i++;
  }
  let b: number = base;
  if ((b === 0 || b === 16) && s[i] === '0' && (s[i + 1] === 'x' || s[i + 1] === 'X') && /[0-9a-fA-F]/.test(s[i + 2] ?? '')) {
    i += 2;
    b = 16;
  } else if (b === 0) {
    b = s[i] === '0' ? 8 : 10;
  }
  const m = DIGIT_RE[b]!.exec(s.slice(i));
  if (!m || i + m[0].length !== s.length) return undefined;
  let v: bigint;
  if (b === 10) v = BigInt(m[0]);
  else if (b === 16) v = BigInt('0x' + m[0]);
  else v = BigInt('0o' + m[0]);
  return neg ? -v : v;
}

const U32_MAX = 0xffffffffn;
const U64_MAX = 0xffffffffffffffffn;
const I32_MIN = -0x80000000n;
const I32_MAX = 0x7fffffffn;

/** virStrToLong_uip: unsigned int, no minus sign anywhere. */
export function strToUIntP(s: string, base: 0 | 8 | 10 | 16 = 10): number | undefined {
  if (s.includes('-')) return undefined;
  const v = parseCInteger(s, base);
  if (v === undefined || v > U32_MAX) return undefined;
  return Number(v);
}

/** virStrToLong_ui: unsigned int; "-1" wraps to UINT_MAX as in C. */
export function strToUInt(s: string, base: 0 | 8 | 10 | 16 = 10): number | undefined {
  const v = parseCInteger(s, base);
  if (v === undefined) return undefined;
  if (v < 0n) {
    if (-v > U32_MAX) return undefined;
    return Number((U32_MAX + 1n + v) & U32_MAX);
  }
  if (v > U32_MAX) return undefined;
  return Number(v);
}

/** virStrToLong_i: signed int. */
export function strToInt(s: string, base: 0 | 8 | 10 | 16 = 10): number | undefined {
  const v = parseCInteger(s, base);
  if (v === undefined || v < I32_MIN || v > I32_MAX) return undefined;
  return Number(v);
}

/** virStrToLong_ullp: unsigned long long, no minus sign. Returned as bigint (full 64-bit range). */
export function strToULongLongP(s: string, base: 0 | 8 | 10 | 16 = 10): bigint | undefined {
  if (s.includes('-')) return undefined;
  const v = parseCInteger(s, base);
  if (v === undefined || v > U64_MAX) return undefined;
  return v;
}

/** virStrToLong_ll: signed long long. */
export function strToLongLong(s: string, base: 0 | 8 | 10 | 16 = 10): bigint | undefined {
  const v = parseCInteger(s, base);
  if (v === undefined || v < -(1n << 63n) || v > (1n << 63n) - 1n) return undefined;
  return v;
}
