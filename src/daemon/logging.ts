// tsvirtd's log: libvirt's levels (1 debug, 2 info, 3 warning, 4 error), log_filters
// ("LEVEL:MATCH …", the first filter whose glob matches the category decides) and log_outputs
// ("LEVEL:stderr", "LEVEL:file:PATH", "LEVEL:syslog:IDENT", "LEVEL:journald"), lines formatted
// as libvirt's: "2026-11-23 11:34:47.616+0000: 12481: warning : daemon.config : message".
// Node has no syslog or journald client; those outputs write to stderr, which systemd puts in
// the journal anyway. Writes are synchronous so the last lines before a crash are not lost.
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { ErrorDomain, ErrorNumber, virtError } from '../errors/index.js';
import type { Logger } from '../rpc/logger.js';

export const LogLevel = { DEBUG: 1, INFO: 2, WARNING: 3, ERROR: 4 } as const;
const LEVEL_NAMES = ['', 'debug', 'info', 'warning', 'error'];

export interface LogFilter {
  level: number;
  /** Glob, matched anywhere in the category ('qemu' is '*qemu*'). */
  match: string;
}

export type LogOutputSpec =
  | { level: number; dest: 'stderr' }
  | { level: number; dest: 'file'; path: string }
  | { level: number; dest: 'syslog'; ident: string }
  | { level: number; dest: 'journald' };

function invalid(msg: string) {
  return virtError(ErrorNumber.INVALID_ARG, ErrorDomain.NONE, msg);
}

function parsePriority(s: string | undefined): number | null {
  if (s === undefined || !/^\d+$/.test(s)) return null;
  const n = Number(s);
  return n >= 1 && n <= 4 ? n : null;
}

/** "1:qemu 4:object" → filters; libvirt's messages for malformed ones. */
export function parseLogFilters(s: string): LogFilter[] {
  const out: LogFilter[] = [];
  for (const src of s.split(/\s+/).filter(Boolean)) {
    const tokens = src.split(':');
    if (tokens.length < 2 || tokens[1] === undefined) throw invalid(`Malformed format for filter '${src}'`);
    const level = parsePriority(tokens[0]);
    if (level === null) throw invalid(`Invalid priority '${tokens[0]}' for filter '${src}'`);
    // A leading '+' once asked for stack traces; libvirt drops it.
    const match = tokens[1].startsWith('+') ? tokens[1].slice(1) : tokens[1];
    if (!match) throw invalid(`Invalid match string '${tokens[1]}'`);
    out.push({ level, match });
  }
  return out;
}

/** "3:stderr 1:file:/var/log/x.log" → outputs; libvirt's messages for malformed ones. */
export function parseLogOutputs(s: string): LogOutputSpec[] {
  const out: LogOutputSpec[] = [];
  for (const src of s.split(/\s+/).filter(Boolean)) {
    const tokens = src.split(':');
    if (tokens.length < 2) throw invalid(`Malformed format for log output '${src}'`);
    const level = parsePriority(tokens[0]);
    if (level === null) throw invalid(`Invalid log priority '${tokens[0]}' for log output '${src}'`);
    const dest = tokens[1]!;
    const want = dest === 'stderr' || dest === 'journald' ? 2 : dest === 'file' || dest === 'syslog' ? 3 : 0;
    if (want === 0) throw invalid(`Invalid log destination '${dest}' for log output '${src}'`);
    if (tokens.length !== want) throw invalid(`Log output '${src}' does not meet the format requirements for destination type '${dest}'`);
    if (dest === 'stderr' || dest === 'journald') out.push({ level, dest });
    else if (dest === 'file') out.push({ level, dest, path: isAbsolute(tokens[2]!) ? tokens[2]! : resolve(tokens[2]!) });
    else out.push({ level, dest: 'syslog', ident: tokens[2]! });
  }
  return out;
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(body);
}

/** "2026-11-23 11:34:47.616+0000", libvirt's timestamp (UTC). */
export function logTimestamp(d = new Date()): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return (
    `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ` +
    `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${p(d.getUTCMilliseconds(), 3)}+0000`
  );
}

interface Sink {
  level: number;
  fd: number;
  /** Opened here (a file): closed on reconfigure. */
  owned: boolean;
}

export interface LogSettings {
  level: number;
  filters: LogFilter[];
  /** null: stderr at `level`. */
  outputs: LogOutputSpec[] | null;
}

/** The daemon's log; `category(name)` gives the Logger each part writes to. */
export class DaemonLog {
  private level = LogLevel.WARNING as number;
  private filters: { level: number; re: RegExp }[] = [];
  private sinks: Sink[] = [{ level: LogLevel.WARNING, fd: 2, owned: false }];
  /** Lowest level any output takes: the fast "is anything listening" check. */
  private floor = LogLevel.WARNING as number;
  private readonly cache = new Map<string, number>();
  /** Outputs that fell back to stderr, reported once per configure. */
  readonly notes: string[] = [];

  constructor(settings?: LogSettings) {
    if (settings) this.configure(settings);
  }

  /** Applies new settings (start-up and SIGHUP). Files are opened before the old ones close. */
  configure(s: LogSettings): void {
    const sinks: Sink[] = [];
    this.notes.length = 0;
    try {
      for (const o of s.outputs ?? [{ level: s.level, dest: 'stderr' as const }]) {
        if (o.dest === 'file') {
          mkdirSync(dirname(o.path), { recursive: true });
          sinks.push({ level: o.level, fd: openSync(o.path, 'a', 0o600), owned: true });
        } else {
          if (o.dest !== 'stderr') this.notes.push(`log output '${o.dest}' is written to stderr (tsvirtd has no ${o.dest} client)`);
          sinks.push({ level: o.level, fd: 2, owned: false });
        }
      }
    } catch (err) {
      for (const k of sinks) if (k.owned) closeSync(k.fd);
      throw err;
    }
    const old = this.sinks;
    this.sinks = sinks;
    this.level = s.level;
    this.filters = s.filters.map((f) => ({ level: f.level, re: globToRegExp(f.match) }));
    this.floor = Math.min(...sinks.map((k) => k.level));
    this.cache.clear();
    for (const k of old) if (k.owned) closeSync(k.fd);
  }

  /** The level a category logs at (first matching filter, else log_level). */
  private threshold(category: string): number {
    let t = this.cache.get(category);
    if (t === undefined) {
      t = this.level;
      for (const f of this.filters) {
        if (f.re.test(category)) {
          t = f.level;
          break;
        }
      }
      this.cache.set(category, t);
    }
    return t;
  }

  enabled(level: number, category: string): boolean {
    return level >= this.floor && level >= this.threshold(category);
  }

  write(level: number, category: string, msg: string): void {
    if (!this.enabled(level, category)) return;
    const line = `${logTimestamp()}: ${process.pid}: ${LEVEL_NAMES[level]} : ${category} : ${msg}\n`;
    for (const k of this.sinks) {
      if (level < k.level) continue;
      try {
        writeSync(k.fd, line);
      } catch {
        // a log that cannot be written must not take the daemon down
      }
    }
  }

  /** A Logger (the rpc layer's interface) writing under one category. */
  category(name: string): Logger {
    return {
      debug: (m) => this.write(LogLevel.DEBUG, name, m),
      info: (m) => this.write(LogLevel.INFO, name, m),
      warn: (m) => this.write(LogLevel.WARNING, name, m),
      error: (m) => this.write(LogLevel.ERROR, name, m),
    };
  }

  close(): void {
    for (const k of this.sinks) if (k.owned) closeSync(k.fd);
    this.sinks = [{ level: this.level, fd: 2, owned: false }];
  }
}
