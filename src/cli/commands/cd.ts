import { homedir } from 'node:os';
import { strerror, errnoOf } from '../../errors/index.js';
import type { CommandDef } from '../commandDef.js';

export const command: CommandDef = {
  name: 'cd',
  help: 'change the current directory',
  desc: 'Change the current directory.',
  opts: [{ name: 'dir', type: 'string', help: 'directory to switch to (default: home or else root)' }],
  noConnect: true,
  async run(sh, cmd) {
    if (!sh.interactive) return sh.fail('cd: command valid only in interactive mode');
    const dir = sh.optString(cmd, 'dir') ?? (homedir() || '/');
    try {
      process.chdir(dir);
    } catch (e) {
      const n = errnoOf(e);
      return sh.fail(`cd: ${n !== undefined ? strerror(n) : String(e)}: ${dir}`);
    }
    return true;
  },
};
