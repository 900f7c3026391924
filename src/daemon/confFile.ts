// libvirt's configuration file syntax (virConf, as in libvirtd.conf and qemu.conf):
//
//   # comment
//   name = "string"          (or 'string', or """triple-quoted, may span lines""")
//   name = 123               (unsigned; a leading '-' makes it signed)
//   name = [ "a", "b",       (lists may span lines; a trailing comma is allowed)
//            "c" ]
//   a = 1; b = 2             (';' also separates statements)
//
// Names start with a letter and go on with letters, digits and '_'. A syntax error is
// CONF_SYNTAX in the CONF domain, "FILE:LINE: what", as libvirt reports it. When a name is given
// twice the first one counts (libvirt's lookup walks the entries in order).
import { ErrorDomain, ErrorNumber, virtError, type VirtError } from '../errors/index.js';

export type ConfValue =
  | { type: 'string'; value: string }
  /** Written without a sign or with '+'. */
  | { type: 'unsigned'; value: number }
  /** Written with a leading '-'. */
  | { type: 'signed'; value: number }
  | { type: 'list'; items: ConfValue[] };

export interface ConfEntry {
  name: string;
  value: ConfValue;
  /** 1-based line where the name stands. */
  line: number;
}

export interface ConfFile {
  /** The name errors carry (the file's path). */
  filename: string;
  entries: ConfEntry[];
  /** The first entry of that name (libvirt's rule). */
  get(name: string): ConfEntry | undefined;
}

/** libvirt's 10 MiB sanity limit on a config file. */
export const MAX_CONFIG_FILE_SIZE = 10 * 1024 * 1024;

const isBlank = (c: string | undefined): boolean => c === ' ' || c === '\t';
const isEol = (c: string | undefined): boolean => c === '\n' || c === '\r';
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isAlpha = (c: string | undefined): boolean => c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));

class Parser {
  private pos = 0;
  private line = 1;

  constructor(
    private readonly text: string,
    private readonly filename: string,
  ) {}

  private at(): string | undefined {
    return this.text[this.pos];
  }

  private get atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  private error(what: string): VirtError {
    return virtError(ErrorNumber.CONF_SYNTAX, ErrorDomain.CONF, `${this.filename}:${this.line}: ${what}`, { line: this.line });
  }

  private skipBlanks(): void {
    while (!this.atEnd && isBlank(this.at())) this.pos++;
  }

  private skipBlanksAndEol(): void {
    while (!this.atEnd && (isBlank(this.at()) || isEol(this.at()))) {
      if (this.at() === '\n') this.line++;
      this.pos++;
    }
  }

  parse(): ConfEntry[] {
    const entries: ConfEntry[] = [];
    while (!this.atEnd) {
      const e = this.statement();
      if (e) entries.push(e);
      this.separator();
    }
    return entries;
  }

  private statement(): ConfEntry | null {
    this.skipBlanksAndEol();
    if (this.atEnd) return null;
    if (this.at() === '#') {
      this.skipToEol();
      return null;
    }
    this.skipBlanks();
    const line = this.line;
    if (!isAlpha(this.at())) throw this.error('expecting a name');
    const start = this.pos;
    while (!this.atEnd && (isAlpha(this.at()) || isDigit(this.at()) || this.at() === '_')) this.pos++;
    const name = this.text.slice(start, this.pos);
    this.skipBlanks();
    if (this.at() !== '=') throw this.error('expecting an assignment');
    this.pos++;
    this.skipBlanks();
    const value = this.value();
    this.skipBlanks();
    if (this.at() === '#') this.skipToEol();
    return { name, value, line };
  }

  private skipToEol(): void {
    while (!this.atEnd && !isEol(this.at())) this.pos++;
  }

  private separator(): void {
    this.skipBlanks();
    if (this.atEnd) return;
    if (isEol(this.at())) {
      this.skipBlanksAndEol();
    } else if (this.at() === ';') {
      this.pos++;
      this.skipBlanksAndEol();
    } else {
      throw this.error('expecting a separator');
    }
  }

  private value(): ConfValue {
    this.skipBlanks();
    if (this.atEnd) throw this.error('expecting a value');
    const c = this.at();
    if (c === '"' || c === "'") return { type: 'string', value: this.string() };
    if (c === '[') return this.list();
    if (isDigit(c) || c === '-' || c === '+') return this.number();
    throw this.error('expecting a value');
  }

  private string(): string {
    if (this.at() === '"' && this.pos + 6 < this.text.length && this.text.startsWith('"""', this.pos)) {
      // Python-style triple quotes: may span lines.
      this.pos += 3;
      const start = this.pos;
      const end = this.text.indexOf('"""', this.pos);
      if (end < 0) {
        for (let i = this.pos; i < this.text.length; i++) if (this.text[i] === '\n') this.line++;
        this.pos = this.text.length;
        throw this.error('unterminated string');
      }
      for (let i = start; i < end; i++) if (this.text[i] === '\n') this.line++;
      this.pos = end + 3;
      return this.text.slice(start, end);
    }
    const quote = this.at()!;
    this.pos++;
    const start = this.pos;
    while (!this.atEnd && this.at() !== quote && !isEol(this.at())) this.pos++;
    if (this.at() !== quote) throw this.error('unterminated string');
    const s = this.text.slice(start, this.pos);
    this.pos++;
    return s;
  }

  private number(): ConfValue {
    let neg = false;
    if (this.at() === '-') {
      neg = true;
      this.pos++;
    } else if (this.at() === '+') {
      this.pos++;
    }
    if (!isDigit(this.at())) throw this.error('unterminated number');
    const start = this.pos;
    while (isDigit(this.at())) this.pos++;
    const n = Number(this.text.slice(start, this.pos));
    return neg ? { type: 'signed', value: -n } : { type: 'unsigned', value: n };
  }

  private list(): ConfValue {
    this.pos++; // '['
    this.skipBlanksAndEol();
    const items: ConfValue[] = [];
    if (!this.atEnd && this.at() !== ']') {
      items.push(this.value());
      this.skipBlanksAndEol();
    }
    while (!this.atEnd && this.at() !== ']') {
      if (this.at() !== ',') throw this.error('expecting a separator in list');
      this.pos++;
      this.skipBlanksAndEol();
      if (this.at() === ']') break;
      items.push(this.value());
      this.skipBlanksAndEol();
    }
    if (this.at() !== ']') throw this.error('list is not closed with ]');
    this.pos++;
    return { type: 'list', items };
  }
}

/** Parses config text; `filename` names the source in errors. */
export function parseConf(text: string, filename: string): ConfFile {
  const entries = new Parser(text, filename).parse();
  const first = new Map<string, ConfEntry>();
  for (const e of entries) if (!first.has(e.name)) first.set(e.name, e);
  return { filename, entries, get: (name) => first.get(name) };
}
