import type { CommandDef } from '../commandDef.js';

/** virBufferEscapeShell: bare when safe, else single-quoted with ' written as '\''. */
function shellQuote(s: string): string {
  if (s !== '' && /^[A-Za-z0-9_\-+./:@%^,=]+$/.test(s)) return s;
  return `'${s.replace(/'/g, "'\\''")}'`;
}

function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** --split: each argument split on ',' where ',,' stands for a literal comma. */
function split(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === ',' && s[i + 1] === ',') {
      cur += ',';
      i++;
    } else if (s[i] === ',') {
      out.push(cur);
      cur = '';
    } else cur += s[i];
  }
  out.push(cur);
  return out;
}

export const command: CommandDef = {
  name: 'echo',
  help: 'echo arguments. Used for internal testing.',
  desc: 'Echo back arguments, possibly with quoting. Used for internal testing.',
  opts: [
    { name: 'shell', type: 'bool', help: 'escape for shell use' },
    { name: 'xml', type: 'bool', help: 'escape for XML use' },
    { name: 'split', type: 'bool', help: "split each argument on ','; ',,' is an escape sequence" },
    { name: 'err', type: 'bool', help: 'output to stderr' },
    { name: 'string', type: 'argv', help: 'arguments to echo' },
  ],
  noConnect: true,
  async run(sh, cmd) {
    const doSplit = sh.bool(cmd, 'split');
    const words = cmd.all('string').flatMap((a) => (doSplit ? split(a) : [a]));
    const shell = sh.bool(cmd, 'shell');
    const xml = sh.bool(cmd, 'xml');
    const quoted = words.map((w) => (xml ? xmlEscape(w) : w)).map((w) => (shell ? shellQuote(w) : w));
    // Split pieces go one per line; plain arguments are joined by blanks.
    const text = doSplit ? quoted.map((w) => `${w}\n`).join('') : quoted.join(' ');
    // No newline of its own: the blank line virsh writes after every command ends it.
    if (sh.bool(cmd, 'err')) sh.error(text);
    else sh.print(text);
    return true;
  },
};
