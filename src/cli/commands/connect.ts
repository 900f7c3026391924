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
    const uri = sh.optString(cmd, 'name') ?? sh.uri;
    return sh.connect(uri, sh.bool(cmd, 'readonly'));
  },
};
