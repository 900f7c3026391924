// Attaching to a domain's console after start/create --console. Only the checks virsh makes
// before it opens the console live here for now; the console session itself (escape character,
// raw terminal) belongs to the `console` command a later change adds.
import type { Domain } from '../api/index.js';
import type { Shell } from './shell.js';

/** false after reporting why there is no console session. */
export async function runConsole(sh: Shell, dom: Domain): Promise<boolean> {
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    return sh.fail('Cannot run interactive console without a controlling TTY');
  }
  try {
    const stream = await dom.openConsole(null, 0);
    stream.destroy();
    return sh.fail('interactive console sessions are not supported by this tsvirt yet');
  } catch (e) {
    sh.setError(e);
    return false;
  }
}
