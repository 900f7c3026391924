// virsh's command-string tokenizer (one argument to virsh, or one line of the interactive shell):
// blanks separate arguments, ';' and newlines separate commands, '#' at the start of an argument
// comments out the rest of the line; single quotes are literal, double quotes group and let '\'
// escape, a backslash outside single quotes escapes the next character and backslash-newline
// disappears.

export type Token = { kind: 'arg'; value: string } | { kind: 'end' };

export class TokenizeError extends Error {}

/**
 * Splits a command string into commands, each a list of arguments. `partial` (for completion)
 * tolerates an unfinished double quote.
 */
export function tokenize(line: string, partial = false): string[][] {
  const cmds: string[][] = [];
  let cur: string[] = [];
  let i = 0;
  const n = line.length;
  const endCommand = (): void => {
    cmds.push(cur);
    cur = [];
  };
  for (;;) {
    while (i < n && (line[i] === ' ' || line[i] === '\t' || (line[i] === '\\' && line[i + 1] === '\n'))) i += line[i] === '\\' ? 2 : 1;
    if (i >= n) break;
    const c = line[i];
    if (c === ';' || c === '\n') {
      i++;
      endCommand();
      continue;
    }
    if (c === '#') {
      while (i < n && line[i] !== '\n') i++;
      if (i < n) i++;
      endCommand();
      continue;
    }
    let single = false;
    let double = false;
    let tok = '';
    while (i < n) {
      const ch = line[i]!;
      if (!single && !double && (ch === ' ' || ch === '\t' || ch === ';' || ch === '\n')) break;
      if (!double && ch === "'") {
        single = !single;
        i++;
        continue;
      }
      if (!single && ch === '\\') {
        i++;
        if (i >= n) throw new TokenizeError('dangling \\');
        if (line[i] === '\n') {
          i++;
          continue;
        }
      } else if (!single && ch === '"') {
        double = !double;
        i++;
        continue;
      }
      tok += line[i];
      i++;
    }
    if (double && !partial) throw new TokenizeError('missing "');
    cur.push(tok);
  }
  if (cur.length) cmds.push(cur);
  return cmds.filter((c) => c.length > 0);
}
