// console: a two-way session with the guest's console (dom.openConsole()); Ctrl-] leaves. On a
// terminal the keys go through raw; unlike virsh, which refuses to run without a terminal, a
// session on pipes works too (for scripts and tests): after the input ends, the session stays
// until the guest has been quiet for a moment.
import type { Duplex } from 'node:stream';
import type { CommandDef } from '../commandDef.js';
import { lookupDomain } from '../lookup.js';
import { domainOpt } from './domainAction.js';

const ESCAPE = 0x1d; // Ctrl-]
const FORCE = 1;
const SAFE = 2;
const QUIET_AFTER_EOF_MS = 1000;

export const command: CommandDef = {
  name: 'console',
  help: 'connect to the guest console',
  desc: 'Connect the virtual serial console for the guest',
  opts: [
    domainOpt,
    { name: 'devname', type: 'string', reqOpt: true, help: 'character device name' },
    { name: 'force', type: 'bool', help: 'force console connection (disconnect already connected sessions)' },
    { name: 'safe', type: 'bool', help: 'only connect if safe console handling is supported' },
  ],
  async run(sh, cmd) {
    const found = await lookupDomain(sh, cmd);
    if (!found) return false;
    const dom = found.dom;
    const { state } = await dom.getState();
    if (state === 5 /* SHUTOFF */) return sh.fail('The domain is not running');
    let flags = 0;
    if (sh.bool(cmd, 'force')) flags |= FORCE;
    if (sh.bool(cmd, 'safe')) flags |= SAFE;
    sh.printExtra(`Connected to domain '${dom.getName()}'\nEscape character is ^] (Ctrl + ])\n`);
    let stream: Duplex;
    try {
      stream = await dom.openConsole(sh.optString(cmd, 'devname') ?? null, flags);
    } catch (e) {
      sh.setError(e);
      return false;
    }
    await runSession(stream, (s) => sh.print(s));
    sh.printExtra('\n');
    return true;
  },
};

/** Copies stdin to the console and the console to stdout until Ctrl-], the console's end, or a signal. */
function runSession(stream: Duplex, print: (s: string) => void): Promise<void> {
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
