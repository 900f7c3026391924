// A console session (the `console` command, start/create --console): the guest's console
// stream and this process's stdin/stdout joined; Ctrl-] leaves.
import type { Duplex } from 'node:stream';
import type { Domain } from '../api/index.js';
import type { Shell } from './shell.js';

const ESCAPE = 0x1d; // Ctrl-]
const QUIET_AFTER_EOF_MS = 1000;

/**
 * start/create --console. On a terminal as virsh; without one, virsh refuses ("Cannot run
 * interactive console without a controlling TTY") and so does this when the driver has no
 * console to give, but a console that opens is joined to the pipes (scripts and tests use it).
 * false after reporting why there is no session.
 */
export async function runConsole(sh: Shell, dom: Domain): Promise<boolean> {
  const tty = process.stdin.isTTY === true && process.stdout.isTTY === true;
  let stream: Duplex;
  try {
    stream = await dom.openConsole(null, 0);
  } catch (e) {
    if (!tty) return sh.fail('Cannot run interactive console without a controlling TTY');
    sh.setError(e);
    return false;
  }
  sh.printExtra(`Connected to domain '${dom.getName()}'\nEscape character is ^] (Ctrl + ])\n`);
  await consoleSession(stream, (s) => sh.print(s));
  sh.printExtra('\n');
  return true;
}

/**
 * Copies stdin to the console and the console to stdout until Ctrl-], the console's end, or a
 * signal. A terminal is put in raw mode; on pipes, once the input ends the session lasts until
 * the guest has been quiet for a moment.
 */
export function consoleSession(stream: Duplex, print: (s: string) => void): Promise<void> {
  const stdin = process.stdin;
  const tty = stdin.isTTY === true;
  return new Promise<void>((resolve) => {
    let quietTimer: NodeJS.Timeout | undefined;
    let inputEnded = false;
    const finish = (): void => {
      clearTimeout(quietTimer);
      stdin.off('data', onInput);
      stdin.off('end', onInputEnd);
      process.off('SIGINT', finish);
      process.off('SIGTERM', finish);
      if (tty) stdin.setRawMode(false);
      stdin.pause();
      stream.destroy();
      resolve();
    };
    const onInput = (chunk: Buffer): void => {
      const i = chunk.indexOf(ESCAPE);
      if (i >= 0) {
        if (i > 0) stream.write(chunk.subarray(0, i));
        finish();
        return;
      }
      stream.write(chunk);
    };
    const quiet = (): void => {
      clearTimeout(quietTimer);
      quietTimer = setTimeout(finish, QUIET_AFTER_EOF_MS);
    };
    const onInputEnd = (): void => {
      inputEnded = true;
      quiet();
    };
    stream.on('data', (d: Buffer) => {
      print(d.toString('latin1'));
      if (inputEnded) quiet();
    });
    stream.once('close', finish);
    stream.on('error', () => undefined);
    process.once('SIGINT', finish);
    process.once('SIGTERM', finish);
    if (tty) stdin.setRawMode(true);
    stdin.on('data', onInput);
    stdin.once('end', onInputEnd);
    stdin.resume();
  });
}
