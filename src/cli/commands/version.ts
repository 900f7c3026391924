import type { CommandDef } from '../commandDef.js';

/** The libvirt release whose API (and virsh) tsvirt reproduces. */
const COMPILED_AGAINST = 9_000_000;

const ver = (v: number): string => `${Math.floor(v / 1_000_000)}.${Math.floor(v / 1000) % 1000}.${v % 1000}`;

export const command: CommandDef = {
  name: 'version',
  help: 'show version',
  desc: 'Display the system version information.',
  opts: [{ name: 'daemon', type: 'bool', help: 'report daemon version too' }],
  async run(sh, cmd) {
    const conn = sh.conn;
    sh.print(`Compiled against library: libvirt ${ver(COMPILED_AGAINST)}\n`);
    sh.print(`Using library: libvirt ${ver(COMPILED_AGAINST)}\n`);
    let type: string;
    try {
      type = await conn.getType();
    } catch (e) {
      return sh.fail('failed to get hypervisor type', e);
    }
    sh.print(`Using API: ${type} ${ver(COMPILED_AGAINST)}\n`);
    let hv: number;
    try {
      hv = await conn.getVersion();
    } catch (e) {
      return sh.fail('failed to get the hypervisor version', e);
    }
    if (hv === 0) sh.print(`Cannot extract running ${type} hypervisor version\n`);
    else sh.print(`Running hypervisor: ${type} ${ver(hv)}\n`);
    if (sh.bool(cmd, 'daemon')) {
      try {
        sh.print(`Running against daemon: ${ver(await conn.getLibVersion())}\n`);
      } catch (e) {
        return sh.fail('failed to get the daemon version', e);
      }
    }
    return true;
  },
};
