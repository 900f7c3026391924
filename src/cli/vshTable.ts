// virsh's table layout (vsh-table.c): every cell is written as " %s", cells but the last padded
// to the column's width plus two spaces; under the header, a rule of (width + 3) dashes per
// column. In quiet mode there is no header, and it does not count in the widths.

/** Display width as virsh counts it: control characters are shown as \xNN (4 columns). */
function encode(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x1f\x7f]|\\x/g, (c) => (c === '\\x' ? '\\x5cx' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}

function width(s: string): number {
  let w = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    // East Asian wide and fullwidth forms take two columns, combining marks none.
    if (/\p{Mn}/u.test(ch)) continue;
    w += cp >= 0x1100 && /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]|[\u{20000}-\u{3fffd}]/u.test(ch) ? 2 : 1;
  }
  return w;
}

export function formatTable(header: string[], rows: string[][], withHeader: boolean): string {
  const all = [header, ...rows].map((r) => r.map(encode));
  const widths = header.map(() => 0);
  for (let i = withHeader ? 0 : 1; i < all.length; i++) {
    all[i]!.forEach((c, j) => (widths[j] = Math.max(widths[j]!, width(c))));
  }
  const line = (r: string[]): string =>
    `${r.map((c, j) => (j < r.length - 1 ? ` ${c}${' '.repeat(widths[j]! - width(c) + 2)}` : ` ${c}`)).join('')}\n`;
  let out = '';
  if (withHeader) {
    out += line(all[0]!);
    out += `${widths.map((w) => '-'.repeat(w + 3)).join('')}\n`;
  }
  for (const r of all.slice(1)) out += line(r);
  return out;
}
