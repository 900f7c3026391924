// The interactive shell: a prompt, line editing with history kept across sessions
// ($XDG_CACHE_HOME/tsvirt/history, as virsh keeps ~/.cache/virsh/history) and completion of
// command names and their options. Without a terminal it reads commands from stdin and echoes
// them after the prompt, as virsh does.
import { mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { writeFileAtomic } from '../host/atomicFile.js';
import { allCommandNames, loadCommand } from './commandTable.js';
import type { Shell } from './shell.js';
import { tokenize } from './tokenizer.js';

const HISTORY_MAX = 500;

function historyFile(): string {
  const cache = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cache, 'tsvirt', 'history');
}

function loadHistory(path: string): string[] {
  try {
    // readline wants the newest entry first.
    return readFileSync(path, 'utf8').split('\n').filter(Boolean).reverse().slice(0, HISTORY_MAX);
  } catch {
    return [];
  }
}

async function saveHistory(path: string, history: string[]): Promise<void> {
  try {
    mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
    await writeFileAtomic(path, `${[...history].reverse().join('\n')}\n`);
  } catch {
    // History is a convenience: failing to keep it must not fail the shell.
  }
}

/** Names an option's value may take: the domains or networks of the connection. */
async function valueCandidates(sh: Shell | undefined, optName: string): Promise<string[]> {
  if (!sh?.connected) return [];
  try {
    if (optName === 'domain') return (await sh.conn.listAllDomains(0)).map((d) => d.getName()).sort();
    if (optName === 'network') return (await sh.conn.listAllNetworks(0)).map((n) => n.getName()).sort();
  } catch {
    // Completion never reports errors.
  }
  return [];
}

/**
 * Candidates for the word being typed: command names first, then that command's options, and
 * domain or network names where the command takes one.
 */
export async function complete(line: string, sh?: Shell): Promise<[string[], string]> {
  const lastSep = Math.max(line.lastIndexOf(';'), line.lastIndexOf('\n'));
  const current = line.slice(lastSep + 1);
  const words = tokenizeLoose(current);
  const endsWithSpace = /\s$/.test(current);
  const word = endsWithSpace ? '' : (words[words.length - 1] ?? '');
  if (words.length === 0 || (words.length === 1 && !endsWithSpace)) {
    const hits = allCommandNames().filter((n) => n.startsWith(word)).map((n) => `${n} `);
    return [hits, word];
  }
  const def = await loadCommand(words[0]!);
  if (!def) return [[], word];
  const seen = new Set(words.slice(1).filter((w) => w.startsWith('--')).map((w) => w.slice(2).split('=')[0]));
  const prev = endsWithSpace ? words[words.length - 1] : words[words.length - 2];
  const valueOf = prev?.startsWith('--') ? def.opts.find((o) => o.name === prev.slice(2) && o.type !== 'bool') : undefined;
  if (valueOf) {
    return [(await valueCandidates(sh, valueOf.name)).filter((n) => n.startsWith(word)).map((n) => `${n} `), word];
  }
  // Positional words fill the command's positional options in order; those are not offered again.
  const given = words.slice(1, endsWithSpace ? undefined : -1);
  const takesValue = (w: string | undefined): boolean =>
    !!w?.startsWith('--') && def.opts.find((o) => o.name === w.slice(2))?.type !== 'bool';
  const positionalsGiven = given.filter((w, i) => !w.startsWith('--') && !takesValue(given[i - 1])).length;
  const positional = def.opts.filter((o) => o.type !== 'bool' && !o.reqOpt && !seen.has(o.name));
  const filled = new Set(positional.slice(0, positionalsGiven).map((o) => o.name));
  const options = def.opts
    .filter((o) => (!seen.has(o.name) && !filled.has(o.name)) || o.type === 'argv')
    .map((o) => `--${o.name} `)
    .filter((o) => o.startsWith(word));
  if (word.startsWith('-')) return [options, word];
  const next = positional[positionalsGiven];
  const values = next ? (await valueCandidates(sh, next.name)).filter((n) => n.startsWith(word)).map((n) => `${n} `) : [];
  return [word === '' ? [...values, ...options] : values, word];
}

function tokenizeLoose(s: string): string[] {
  try {
    return tokenize(s, true)[0] ?? [];
  } catch {
    return s.trim().split(/\s+/).filter(Boolean);
  }
}

export async function interactive(sh: Shell): Promise<number> {
  sh.interactive = true;
  const tty = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  if (!sh.quiet) {
    sh.print(
      "Welcome to tsvirt, the virtualization interactive terminal.\n\nType:  'help' for help with commands\n       'quit' to quit\n\n",
    );
  }
  await sh.connect();
  const prompt = process.getuid?.() === 0 ? 'tsvirt # ' : 'tsvirt $ ';
  const histPath = historyFile();
  const rl: Interface = createInterface({
    input: process.stdin,
    output: tty ? process.stdout : undefined,
    terminal: tty,
    history: tty ? loadHistory(histPath) : [],
    historySize: HISTORY_MAX,
    removeHistoryDuplicates: false,
    completer: (line: string, cb: (err: null, r: [string[], string]) => void) => {
      complete(line, sh).then(
        (r) => cb(null, r),
        () => cb(null, [[], line]),
      );
    },
  });
  rl.setPrompt(prompt);
  // Ctrl-C stops the running command (event --loop); at the prompt it discards the line.
  rl.on('SIGINT', () => {
    if (sh.interrupt()) return;
    rl.write(null, { ctrl: true, name: 'u' });
    sh.print('\n');
    rl.prompt();
  });
  const lines = rl[Symbol.asyncIterator]();
  for (;;) {
    if (tty) rl.prompt();
    else sh.print(prompt);
    const next = await lines.next();
    if (next.done) break;
    const line = next.value;
    if (!tty) sh.print(`${line}\n`);
    if (line.trim() === '') continue;
    const cmds = await sh.parseString(line);
    if (cmds) await sh.run(cmds);
    if (sh.quitRequested) break;
  }
  sh.print('\n');
  if (tty) await saveHistory(histPath, (rl as unknown as { history: string[] }).history);
  rl.close();
  await sh.close().catch(() => undefined);
  return 0;
}
