import type { CommandDef } from '../commandDef.js';

export const command: CommandDef = {
  name: 'connect',
  help: '(re)connect to hypervisor',
  desc: 'Connect to local hypervisor. This is built-in command after shell start up.',
  opts: [
    { name: 'name', type: 'string', help: 'hypervisor connection URI' },
    { name: 'readonly', type: 'bool', help: 'read-only connection' },
  ],
  noConnect: true,
  async run(sh, cmd) {
    const name = sh.optString(cmd, 'name');
    // Reconnecting to the same URI keeps read-only as it was; a new URI is read-write unless asked.
    const readonly = sh.bool(cmd, 'readonly') || (name === undefined && sh.readonly);
    return sh.connect(name ?? sh.uri, readonly);
  },
};
