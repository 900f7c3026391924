// tsvirt: the virsh-compatible shell. `tsvirt [options] [<command_string>]` or
// `tsvirt [options] <command> [args...]`; with no command, an interactive shell.
import { registry } from './commandTable.js';
import { Shell, type ShellIO } from './shell.js';

const USAGE = `
tsvirt [options]... [<command_string>]
tsvirt [options]... <command> [args...]

  options:
    -c | --connect=URI      hypervisor connection URI (default: $VIRSH_DEFAULT_CONNECT_URI,
                            then $LIBVIRT_DEFAULT_URI)
    -h | --help             this help
    -q | --quiet            quiet mode
    -r | --readonly         connect readonly
    -v                      short version
    -V                      long version
         --version[=TYPE]   version, TYPE is short or long (default short)

  (specify help <group> for details about the commands in the group)

  (specify help <command> for details about the command)

`;

const VERSION = '9.0.0';

export interface MainResult {
  status: number;
}

interface GlobalOptions {
  uri?: string;
  readonly: boolean;
  quiet: boolean;
  rest: string[];
}

/** Parses virsh's global options (getopt "+c:d:e:hk:K:l:qrtvV": stops at the first non-option). */
function parseGlobal(argv: string[], io: ShellIO): GlobalOptions | number {
  const o: GlobalOptions = { readonly: false, quiet: false, rest: [] };
  let i = 0;
  const needArg = (short: string, long: string): string | number => {
    if (i + 1 >= argv.length) {
      io.err(`error: option '-${short}'/'--${long}' requires an argument\n`);
      return 1;
    }
    return argv[++i]!;
  };
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    if (a.startsWith('--')) {
      const [name, val] = a.includes('=') ? [a.slice(2, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a.slice(2), undefined];
      switch (name) {
        case 'connect': {
          const v = val ?? needArg('c', 'connect');
          if (typeof v === 'number') return v;
          o.uri = v;
          break;
        }
        case 'readonly':
          o.readonly = true;
          break;
        case 'quiet':
          o.quiet = true;
          break;
        case 'help':
          io.out(USAGE);
          return 0;
        case 'version':
          io.out(`${VERSION}\n`);
          return 0;
        case 'debug':
        case 'escape':
        case 'keepalive-interval':
        case 'keepalive-count':
        case 'log':
          if (val === undefined && typeof needArg(name[0]!, name) === 'number') return 1;
          break;
        case 'timing':
          break;
        default:
          io.err(`error: unsupported option '${a}'. See --help.\n`);
          return 1;
      }
      continue;
    }
    // Bundled short options: -rq, -cURI, -c URI.
    for (let j = 1; j < a.length; j++) {
      const ch = a[j]!;
      if ('cdekKl'.includes(ch)) {
        const longName = { c: 'connect', d: 'debug', e: 'escape', k: 'keepalive-interval', K: 'keepalive-count', l: 'log' }[ch]!;
        let v: string | number;
        if (j + 1 < a.length) v = a.slice(j + 1);
        else v = needArg(ch, longName);
        if (typeof v === 'number') return v;
        if (ch === 'c') o.uri = v;
        break;
      }
      if (ch === 'r') o.readonly = true;
      else if (ch === 'q') o.quiet = true;
      else if (ch === 't') continue;
      else if (ch === 'h') {
        io.out(USAGE);
        return 0;
      } else if (ch === 'v') {
        io.out(`${VERSION}\n`);
        return 0;
      } else if (ch === 'V') {
        io.out(`tsvirt command line tool, compatible with virsh of libvirt ${VERSION}\n`);
        return 0;
      } else {
        io.err(`error: unsupported option '-${ch}'. See --help.\n`);
        return 1;
      }
    }
  }
  o.rest = argv.slice(i);
  return o;
}

/** Runs tsvirt with these arguments; returns the exit status. */
export async function main(argv: string[], io: ShellIO = defaultIO()): Promise<number> {
  const g = parseGlobal(argv, io);
  if (typeof g === 'number') return g;
  // virsh's own default before libvirt's (LIBVIRT_DEFAULT_URI, applied by open()).
  const uri = g.uri ?? (process.env.VIRSH_DEFAULT_CONNECT_URI || undefined);
  const sh = new Shell({ uri, readonly: g.readonly, quiet: g.quiet, io, registry });
  if (g.rest.length === 0) {
    const { interactive } = await import('./interactive.js');
    return interactive(sh);
  }
  const cmds = g.rest.length === 1 ? await sh.parseString(g.rest[0]!) : await sh.parseArgv(g.rest);
  // An empty command string is a failure without a message, as in virsh.
  if (!cmds || (g.rest.length === 1 && g.rest[0]!.trim() === '')) return 1;
  if (!(await sh.connect())) return 1;
  try {
    const ok = await sh.run(cmds);
    return ok ? 0 : 1;
  } finally {
    await sh.close().catch(() => undefined);
  }
}

function defaultIO(): ShellIO {
  return {
    out: (s) => void process.stdout.write(s),
    err: (s) => void process.stderr.write(s),
  };
}

/** Entry point of bin/tsvirt. */
export async function runFromProcess(): Promise<void> {
  const status = await main(process.argv.slice(2));
  // Let stdout drain before exiting (pipes are asynchronous in Node).
  process.exitCode = status;
  if (process.stdout.writableNeedDrain) await new Promise((r) => process.stdout.once('drain', r));
  process.exit(status);
}
