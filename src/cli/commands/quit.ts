import type { CommandDef } from '../commandDef.js';

export const command: CommandDef = {
  name: 'quit',
  help: 'quit this interactive terminal',
  opts: [],
  noConnect: true,
  async run() {
    return true;
  },
};

export const exitCommand: CommandDef = { ...command, name: 'exit' };
