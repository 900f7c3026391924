import { ConnectListAllNetworksFlags as F, type Network } from '../../api/index.js';
import type { CommandDef, OptDef } from '../commandDef.js';
import { formatTable } from '../vshTable.js';

const b = (name: string, help: string): OptDef => ({ name, type: 'bool', help });

export const command: CommandDef = {
  name: 'net-list',
  help: 'list networks',
  desc: 'Returns list of networks.',
  opts: [
    b('inactive', 'list inactive networks'),
    b('all', 'list inactive & active networks'),
    b('persistent', 'list persistent networks'),
    b('transient', 'list transient networks'),
    b('autostart', 'list networks with autostart enabled'),
    b('no-autostart', 'list networks with autostart disabled'),
    b('uuid', "list uuid's only"),
    b('name', 'list network names only'),
    b('table', 'list table (default)'),
  ],
  async run(sh, cmd) {
    if (['table', 'name', 'uuid'].filter((o) => cmd.has(o)).length > 1) {
      return sh.fail('Only one argument from --table, --name and --uuid may be specified.');
    }
    const optUUID = sh.bool(cmd, 'uuid');
    const optName = sh.bool(cmd, 'name');
    let flags: number = F.ACTIVE;
    if (sh.bool(cmd, 'inactive')) flags = F.INACTIVE;
    if (sh.bool(cmd, 'all')) flags = F.ACTIVE | F.INACTIVE;
    if (sh.bool(cmd, 'persistent')) flags |= F.PERSISTENT;
    if (sh.bool(cmd, 'transient')) flags |= F.TRANSIENT;
    if (sh.bool(cmd, 'autostart')) flags |= F.AUTOSTART;
    if (sh.bool(cmd, 'no-autostart')) flags |= F.NO_AUTOSTART;
    let nets: Network[];
    try {
      nets = await sh.conn.listAllNetworks(flags);
    } catch (e) {
      return sh.fail('Failed to list networks', e);
    }
    nets.sort((x, y) => x.getName().toLowerCase().localeCompare(y.getName().toLowerCase()));
    if (!optUUID && !optName) {
      const rows: string[][] = [];
      for (const n of nets) {
        const autostart = await n.getAutostart().then((a) => (a ? 'yes' : 'no'), () => 'no autostart');
        const active = await n.isActive().catch(() => false);
        const persistent = await n.isPersistent().catch(() => false);
        rows.push([n.getName(), active ? 'active' : 'inactive', autostart, persistent ? 'yes' : 'no']);
      }
      sh.print(formatTable(['Name', 'State', 'Autostart', 'Persistent'], rows, !sh.quiet));
      return true;
    }
    for (const n of nets) {
      if (optUUID) sh.print(`${n.getUUIDString()}\n`);
      else sh.print(`${n.getName()}\n`);
    }
    return true;
  },
};
