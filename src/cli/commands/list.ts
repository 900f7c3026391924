import { ConnectListAllDomainsFlags as F, DomainState, type Domain } from '../../api/index.js';
import { child, parseXml, textOf } from '../../conf/xml/xmlTree.js';
import type { CommandDef, OptDef } from '../commandDef.js';
import { formatTable } from '../vshTable.js';
import { domainStateString } from '../virshStrings.js';

const b = (name: string, help: string): OptDef => ({ name, type: 'bool', help });

/** Running domains by id, then the others by name (virsh's sort). */
function sortDomains(doms: Domain[]): Domain[] {
  return [...doms].sort((x, y) => {
    const a = x.getID();
    const c = y.getID();
    if (a === -1 && c === -1) return x.getName().toLowerCase().localeCompare(y.getName().toLowerCase());
    if (a !== -1 && c !== -1) return a - c;
    return a !== -1 ? -1 : 1;
  });
}

const FILTERS: [string, number][] = [
  ['persistent', F.PERSISTENT],
  ['transient', F.TRANSIENT],
  ['with-snapshot', F.HAS_SNAPSHOT],
  ['without-snapshot', F.NO_SNAPSHOT],
  ['with-checkpoint', F.HAS_CHECKPOINT],
  ['without-checkpoint', F.NO_CHECKPOINT],
  ['state-running', F.RUNNING],
  ['state-paused', F.PAUSED],
  ['state-shutoff', F.SHUTOFF],
  ['state-other', F.OTHER],
  ['autostart', F.AUTOSTART],
  ['no-autostart', F.NO_AUTOSTART],
  ['with-managed-save', F.MANAGEDSAVE],
  ['without-managed-save', F.NO_MANAGEDSAVE],
];

export const command: CommandDef = {
  name: 'list',
  help: 'list domains',
  desc: 'Returns list of domains.',
  opts: [
    b('inactive', 'list inactive domains'),
    b('all', 'list inactive & active domains'),
    b('transient', 'list transient domains'),
    b('persistent', 'list persistent domains'),
    b('with-snapshot', 'list domains with existing snapshot'),
    b('without-snapshot', 'list domains without a snapshot'),
    b('with-checkpoint', 'list domains with existing checkpoint'),
    b('without-checkpoint', 'list domains without a checkpoint'),
    b('state-running', 'list domains in running state'),
    b('state-paused', 'list domains in paused state'),
    b('state-shutoff', 'list domains in shutoff state'),
    b('state-other', 'list domains in other states'),
    b('autostart', 'list domains with autostart enabled'),
    b('no-autostart', 'list domains with autostart disabled'),
    b('with-managed-save', 'list domains with managed save state'),
    b('without-managed-save', 'list domains without managed save'),
    b('uuid', "list uuid's only"),
    b('name', 'list domain names only'),
    b('id', 'list domain IDs only'),
    b('table', 'list table (default)'),
    b('managed-save', 'mark inactive domains with managed save state'),
    b('title', 'show domain title'),
  ],
  async run(sh, cmd) {
    sh.exclusive(cmd, 'table', 'name');
    sh.exclusive(cmd, 'table', 'uuid');
    sh.exclusive(cmd, 'table', 'id');
    const optUUID = sh.bool(cmd, 'uuid');
    const optName = sh.bool(cmd, 'name');
    const optID = sh.bool(cmd, 'id');
    const table = !optUUID && !optName && !optID;
    let flags: number = F.ACTIVE;
    if (sh.bool(cmd, 'inactive')) flags = F.INACTIVE;
    if (sh.bool(cmd, 'all')) flags = F.ACTIVE | F.INACTIVE;
    for (const [opt, bit] of FILTERS) if (sh.bool(cmd, opt)) flags |= bit;
    // A state filter alone lists domains in that state, running or not.
    const states = F.RUNNING | F.PAUSED | F.SHUTOFF | F.OTHER;
    if (flags & states && !sh.bool(cmd, 'inactive') && !sh.bool(cmd, 'all')) flags &= ~F.ACTIVE;
    let doms: Domain[];
    try {
      doms = sortDomains(await sh.conn.listAllDomains(flags));
    } catch (e) {
      return sh.fail('Failed to list domains', e);
    }
    if (table) {
      const withTitle = sh.bool(cmd, 'title');
      const rows: string[][] = [];
      for (const d of doms) {
        const id = d.getID();
        let state: string;
        try {
          const st = (await d.getState(0)).state;
          state =
            sh.bool(cmd, 'managed-save') && st === DomainState.SHUTOFF && (await d.hasManagedSaveImage(0).catch(() => false))
              ? 'saved'
              : domainStateString(st);
        } catch {
          state = 'no state';
        }
        const row = [id === -1 ? '-' : String(id), d.getName(), state];
        if (withTitle) {
          const title = await d.getXMLDesc(0).then((x) => child(parseXml(x), 'title'), () => undefined);
          row.push(title ? textOf(title) : '');
        }
        rows.push(row);
      }
      const header = withTitle ? ['Id', 'Name', 'State', 'Title'] : ['Id', 'Name', 'State'];
      sh.print(formatTable(header, rows, !sh.quiet));
      return true;
    }
    for (const d of doms) {
      const id = d.getID();
      if (optID && !optUUID && !optName && id === -1) continue;
      const parts: string[] = [];
      if (optUUID) parts.push(d.getUUIDString());
      if (optID) parts.push(id === -1 ? '-' : String(id));
      if (optName) parts.push(d.getName());
      sh.print(`${parts.join(' ')}\n`);
    }
    return true;
  },
};
