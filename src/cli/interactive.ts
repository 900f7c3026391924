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

/** Candidates for the word being typed: command names first, then that command's options. */
export async function complete(line: string): Promise<[string[], string]> {
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
  if (word === '' || word.startsWith('-')) {
    const hits = def.opts
      .filter((o) => !seen.has(o.name) || o.type === 'argv')
      .map((o) => `--${o.name} `)
      .filter((o) => o.startsWith(word));
    return [hits, word];
  }
  return [[], word];
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
      complete(line).then(
        (r) => cb(null, r),
        () => cb(null, [[], line]),
      );
    },
  });
  rl.setPrompt(prompt);
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
