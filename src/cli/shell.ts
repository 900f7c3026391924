// The shell's core, as virsh's vsh.c: parse a command string or argv into commands (all of them,
// before any runs), run them in order on one connection, print `error: …` lines on stderr, and
// the blank line virsh prints after each command (not in quiet mode).
import { VirtError } from '../errors/index.js';
import { open, type Connection } from '../api/index.js';
import { TokenizeError, tokenize } from './tokenizer.js';

export interface ShellIO {
  out(s: string): void;
  err(s: string): void;
}

export interface ShellOptions {
  /** -c URI; undefined = the default URI. */
  uri?: string;
  readonly?: boolean;
  quiet?: boolean;
  io: ShellIO;
  registry: CommandRegistry;
}

/**
 * virsh's option types. `data` is a required positional string (`dominfo <domain>`); `string`
 * and `int` take a value and, unless `reqOpt`, may also be given positionally, in order; `bool`
 * takes none; `argv` swallows every remaining positional.
 */
export type OptType = 'bool' | 'string' | 'int' | 'data' | 'argv';

export interface OptDef {
  name: string;
  type: OptType;
  help: string;
  required?: boolean;
  /** Only as `--name value`, never positionally (virsh's VSH_OFLAG_REQ_OPT). */
  reqOpt?: boolean;
}

export interface CommandDef {
  name: string;
  /** One line, as `help` lists it. */
  help: string;
  /** DESCRIPTION section of `help NAME` (lines). */
  desc?: string;
  opts: OptDef[];
  /** Runs without a connection (help, quit, connect, …). */
  noConnect?: boolean;
  /** false = failed (an error was reported). */
  run(sh: Shell, cmd: ParsedCommand): Promise<boolean>;
}

/** A parsed invocation: which options were given and their values. */
export class ParsedCommand {
  readonly def: CommandDef;
  private readonly values = new Map<string, string[]>();

  constructor(def: CommandDef) {
    this.def = def;
  }

  set(name: string, value: string): void {
    const v = this.values.get(name);
    if (v) v.push(value);
    else this.values.set(name, [value]);
  }

  has(name: string): boolean {
    return this.values.has(name);
  }

  /** The value of a string option, or undefined when absent. */
  get(name: string): string | undefined {
    return this.values.get(name)?.[0];
  }

  /** Every value an argv option collected. */
  all(name: string): string[] {
    return this.values.get(name) ?? [];
  }

  /** Options given, in definition order. */
  given(): string[] {
    return this.def.opts.map((o) => o.name).filter((n) => this.values.has(n));
  }
}

/** The commands a shell knows, in groups (commandTable.ts); handed in so the shell imports none. */
export interface CommandRegistry {
  groups: { title: string; keyword: string; commands: { name: string; load(): Promise<{ command: CommandDef }> }[] }[];
  load(name: string): Promise<CommandDef | undefined>;
}

class ParseError extends Error {}

export class Shell {
  uri: string | undefined;
  readonly: boolean;
  quiet: boolean;
  readonly io: ShellIO;
  readonly registry: CommandRegistry;
  interactive = false;
  #conn: Connection | null = null;
  /** The libvirt error a failed command leaves for the final `error:` line (virsh's last_error). */
  lastError: VirtError | null = null;
  /** Set by quit/exit. */
  quitRequested = false;
  readonly #interruptHandlers = new Set<() => void>();

  constructor(opts: ShellOptions) {
    this.uri = opts.uri;
    this.readonly = opts.readonly ?? false;
    this.quiet = opts.quiet ?? false;
    this.io = opts.io;
    this.registry = opts.registry;
  }

  // ---- output (vshPrint, vshPrintExtra, vshError) ----

  print(s: string): void {
    this.io.out(s);
  }

  /** Informational output that -q suppresses. */
  printExtra(s: string): void {
    if (!this.quiet) this.io.out(s);
  }

  error(msg: string): void {
    this.io.err(`error: ${msg}\n`);
  }

  /** Reports a failure: virsh's own message now, the libvirt error after the command ends. */
  fail(msg: string, err?: unknown): false {
    this.error(msg);
    if (err !== undefined) this.setError(err);
    return false;
  }

  setError(err: unknown): void {
    if (err instanceof VirtError) this.lastError = err;
    else if (err instanceof Error) this.lastError = new VirtError({ code: 1, domain: 0, message: err.message });
  }

  // ---- interrupts (Ctrl-C while a command runs, e.g. `event --loop`) ----

  /** Calls `cb` on interrupt until the returned function is called. */
  onInterrupt(cb: () => void): () => void {
    const sigint = (): void => cb();
    this.#interruptHandlers.add(cb);
    // Outside the interactive terminal, Ctrl-C arrives as SIGINT.
    process.on('SIGINT', sigint);
    return () => {
      this.#interruptHandlers.delete(cb);
      process.off('SIGINT', sigint);
    };
  }

  /** Interrupts the running command; false when none listens. */
  interrupt(): boolean {
    for (const cb of this.#interruptHandlers) cb();
    return this.#interruptHandlers.size > 0;
  }

  // ---- connection ----

  get connected(): boolean {
    return this.#conn !== null;
  }

  /** Opens the connection (virsh does at start-up); on failure prints virsh's two error lines. */
  async connect(uri = this.uri, readonly = this.readonly): Promise<boolean> {
    // As virsh: the old connection goes first (so test:///default starts afresh); a failed open
    // leaves none, and the next command reconnects to the URI that worked before.
    const old = this.#conn;
    this.#conn = null;
    if (old) await old.close().catch(() => undefined);
    try {
      this.#conn = await open(uri ?? null, { readonly });
    } catch (e) {
      this.error('failed to connect to the hypervisor');
      this.error(e instanceof Error ? e.message : String(e));
      return false;
    }
    this.uri = uri;
    this.readonly = readonly;
    return true;
  }

  /** The open connection; commands that need one are only run when it exists. */
  get conn(): Connection {
    if (!this.#conn) throw new VirtError({ code: 6, domain: 0, message: 'no valid connection' });
    return this.#conn;
  }

  async close(): Promise<void> {
    const c = this.#conn;
    this.#conn = null;
    if (c) await c.close();
  }

  // ---- parsing ----

  /** Parses a command string; prints the error and returns null when it is not valid. */
  async parseString(line: string): Promise<ParsedCommand[] | null> {
    let groups: string[][];
    try {
      groups = tokenize(line);
    } catch (e) {
      if (e instanceof TokenizeError) {
        this.error(e.message);
        return null;
      }
      throw e;
    }
    return this.#parseGroups(groups);
  }

  /** Parses argv (each element one argument; no ';' splitting), as `virsh CMD ARG…`. */
  async parseArgv(args: string[]): Promise<ParsedCommand[] | null> {
    return this.#parseGroups([args]);
  }

  async #parseGroups(groups: string[][]): Promise<ParsedCommand[] | null> {
    const out: ParsedCommand[] = [];
    try {
      for (const g of groups) {
        if (g.length === 0 || g[0]!.startsWith('#')) continue;
        out.push(await this.#parseOne(g));
      }
    } catch (e) {
      if (e instanceof ParseError) {
        this.error(e.message);
        return null;
      }
      throw e;
    }
    return out;
  }

  async #parseOne(tokens: string[]): Promise<ParsedCommand> {
    const name = tokens[0]!;
    const def = await this.registry.load(name);
    if (!def) throw new ParseError(`unknown command: '${name}'`);
    const cmd = new ParsedCommand(def);
    const isHelp = def.name === 'help';
    let positionalOnly = false;
    let helpSeen = false;
    for (let i = 1; i < tokens.length; i++) {
      const tok = tokens[i]!;
      if (positionalOnly || !tok.startsWith('--')) {
        this.#assignPositional(cmd, tok, isHelp);
        continue;
      }
      if (tok === '--') {
        positionalOnly = true;
        continue;
      }
      let optName = tok.slice(2);
      let value: string | undefined;
      const eq = optName.indexOf('=');
      if (eq >= 0) {
        value = optName.slice(eq + 1);
        optName = optName.slice(0, eq);
      }
      if (optName === 'help') {
        helpSeen = true;
        continue;
      }
      const opt = def.opts.find((o) => o.name === optName);
      if (!opt) {
        if (isHelp) continue;
        throw new ParseError(`command '${def.name}' doesn't support option --${optName}`);
      }
      if (cmd.has(opt.name) && opt.type !== 'argv') throw new ParseError(`option --${opt.name} already seen`);
      if (opt.type === 'bool') {
        if (value !== undefined) throw new ParseError(`invalid '=' after option --${opt.name}`);
        cmd.set(opt.name, '');
        continue;
      }
      if (value === undefined) {
        if (i + 1 >= tokens.length) {
          throw new ParseError(`expected syntax: --${opt.name} <${opt.type === 'int' ? 'number' : 'string'}>`);
        }
        value = tokens[++i]!;
      }
      cmd.set(opt.name, value);
    }
    if (helpSeen) {
      const help = (await this.registry.load('help'))!;
      const h = new ParsedCommand(help);
      h.set('command', def.name);
      return h;
    }
    for (const o of def.opts) {
      if (!o.required || cmd.has(o.name)) continue;
      throw new ParseError(
        o.type === 'data' || o.type === 'argv'
          ? `command '${def.name}' requires <${o.name}> option`
          : `command '${def.name}' requires --${o.name} option`,
      );
    }
    return cmd;
  }

  #assignPositional(cmd: ParsedCommand, value: string, isHelp: boolean): void {
    const opt = cmd.def.opts.find((o: OptDef) => positional(o) && (o.type === 'argv' || !cmd.has(o.name)));
    if (!opt) {
      if (isHelp) return;
      throw new ParseError(`unexpected data '${value}'`);
    }
    cmd.set(opt.name, value);
  }

  // ---- running ----

  /** Runs parsed commands in order; the result is that of the last one (virsh's exit status). */
  async run(cmds: ParsedCommand[]): Promise<boolean> {
    let ret = true;
    for (const cmd of cmds) {
      this.lastError = null;
      if (!cmd.def.noConnect && !this.#conn) {
        // virsh reconnects lazily in interactive mode after a failed or closed connection.
        if (!(await this.connect())) {
          ret = false;
          this.printExtra('\n');
          continue;
        }
      }
      try {
        ret = await cmd.def.run(this, cmd);
      } catch (e) {
        if (!(e instanceof VirtError)) throw e;
        this.setError(e);
        ret = false;
      }
      const err = this.lastError as VirtError | null;
      if (!ret && err) this.error(err.message);
      // Let events the command caused reach their callbacks before the next command runs.
      await new Promise((r) => setImmediate(r));
      this.lastError = null;
      if (cmd.def.name === 'quit' || cmd.def.name === 'exit') {
        this.quitRequested = true;
        return ret;
      }
      this.printExtra('\n');
    }
    return ret;
  }

  // ---- option access for handlers (vshCommandOpt*) ----

  /** A string option's value; empty is refused as virsh does. undefined when absent. */
  optString(cmd: ParsedCommand, name: string): string | undefined {
    const v = cmd.get(name);
    if (v === undefined) return undefined;
    if (v === '') throw new OptionError(`Failed to get option '${name}': Option argument is empty`);
    return v;
  }

  /** An unsigned int option (vshCommandOptUInt); undefined when absent. */
  optUInt(cmd: ParsedCommand, name: string): number | undefined {
    const v = cmd.get(name);
    if (v === undefined) return undefined;
    if (!/^\+?\d+$/.test(v.trim()) || Number(v) > 0xffffffff) {
      throw new OptionError(`Numeric value '${v}' for <${name}> option is malformed or out of range`);
    }
    return Number(v);
  }

  bool(cmd: ParsedCommand, name: string): boolean {
    return cmd.has(name);
  }

  /** VSH_EXCLUSIVE_OPTIONS */
  exclusive(cmd: ParsedCommand, a: string, b: string): void {
    if (cmd.has(a) && cmd.has(b)) throw new OptionError(`Options --${a} and --${b} are mutually exclusive`);
  }
}

/** An option error a handler raises; reported as `error: <message>` and the command fails. */
export class OptionError extends VirtError {
  readonly optionError = true;

  constructor(message: string) {
    super({ code: 8, domain: 0, message });
  }

  // VirtError's instanceof accepts every VirtError (a brand check); this one must not.
  static override [Symbol.hasInstance](obj: unknown): boolean {
    return typeof obj === 'object' && obj !== null && (obj as { optionError?: unknown }).optionError === true;
  }
}

function positional(o: OptDef): boolean {
  return o.type !== 'bool' && !o.reqOpt;
}

