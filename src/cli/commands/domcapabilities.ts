import type { CommandDef } from '../commandDef.js';

export const command: CommandDef = {
  name: 'domcapabilities',
  help: 'domain capabilities',
  desc: 'Returns capabilities of emulator with respect to host and libvirt.',
  opts: [
    { name: 'virttype', type: 'string', reqOpt: true, help: 'virtualization type (/domain/@type)' },
    { name: 'emulatorbin', type: 'string', reqOpt: true, help: 'path to emulator binary (/domain/devices/emulator)' },
    { name: 'arch', type: 'string', reqOpt: true, help: 'domain architecture (/domain/os/type/@arch)' },
    { name: 'machine', type: 'string', reqOpt: true, help: 'machine type (/domain/os/type/@machine)' },
  ],
  async run(sh, cmd) {
    let caps: string;
    try {
      caps = await sh.conn.getDomainCapabilities({
        virttype: sh.optString(cmd, 'virttype') ?? null,
        emulatorbin: sh.optString(cmd, 'emulatorbin') ?? null,
        arch: sh.optString(cmd, 'arch') ?? null,
        machine: sh.optString(cmd, 'machine') ?? null,
      });
    } catch (e) {
      return sh.fail('failed to get emulator capabilities', e);
    }
    sh.print(caps);
    return true;
  },
};
