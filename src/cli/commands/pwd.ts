import type { CommandDef } from '../commandDef.js';

export const command: CommandDef = {
  name: 'pwd',
  help: 'print the current directory',
  desc: 'Print the current directory.',
  opts: [],
  noConnect: true,
  async run(sh) {
    sh.print(`${process.cwd()}\n`);
    return true;
  },
};
