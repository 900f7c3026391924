// What a shell command is: virsh's command definition (name, help, options) and its handler.
// A command is one module in src/cli/commands/ exporting `command: CommandDef`, listed once in
// commandTable.ts.
import type { Shell } from './shell.js';

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
