import { ErrorNumber, VirtError } from '../../api/index.js';
import type { CommandDef } from '../commandDef.js';
import { lookupDomain } from '../lookup.js';
import { domainStateString } from '../virshStrings.js';
import { domainOpt } from './domainAction.js';

const field = (label: string, value: string | number): string => `${label.padEnd(15)} ${value}\n`;

export const command: CommandDef = {
  name: 'dominfo',
  help: 'domain information',
  desc: 'Returns basic information about the domain.',
  opts: [domainOpt],
  async run(sh, cmd) {
    const found = await lookupDomain(sh, cmd);
    if (!found) return false;
    const { dom } = found;
    const id = dom.getID();
    sh.print(field('Id:', id === -1 ? '-' : id));
    sh.print(field('Name:', dom.getName()));
    sh.print(field('UUID:', dom.getUUIDString()));
    const ostype = await dom.getOSType().catch(() => undefined);
    if (ostype !== undefined) sh.print(field('OS Type:', ostype));
    let ret = true;
    try {
      const info = await dom.getInfo();
      sh.print(field('State:', domainStateString(info.state)));
      sh.print(field('CPU(s):', info.nrVirtCpu));
      if (info.cpuTime !== 0n) sh.print(field('CPU time:', `${(Number(info.cpuTime) / 1e9).toFixed(1)}s`));
      sh.print(field('Max memory:', info.maxMem === 0xffffffff ? 'no limit' : `${info.maxMem} KiB`));
      sh.print(field('Used memory:', `${info.memory} KiB`));
    } catch (e) {
      sh.setError(e);
      ret = false;
    }
    const persistent = await dom.isPersistent().catch(() => undefined);
    sh.print(field('Persistent:', persistent === undefined ? 'unknown' : persistent ? 'yes' : 'no'));
    const autostart = await dom.getAutostart().catch(() => undefined);
    if (autostart !== undefined) sh.print(field('Autostart:', autostart ? 'enable' : 'disable'));
    const saved = await dom.hasManagedSaveImage(0).catch(() => undefined);
    sh.print(field('Managed save:', saved === undefined ? 'unknown' : saved ? 'yes' : 'no'));
    try {
      const model = await sh.conn.nodeGetSecurityModel();
      if (model.model !== '') {
        sh.print(field('Security model:', model.model));
        sh.print(field('Security DOI:', model.doi));
        const label = await dom.getSecurityLabel();
        if (label.label !== '') sh.print(field('Security label:', `${label.label} (${label.enforcing ? 'enforcing' : 'permissive'})`));
      }
    } catch (e) {
      if (!(e instanceof VirtError) || e.code !== ErrorNumber.NO_SUPPORT) {
        sh.setError(e);
        return false;
      }
    }
    const messages = await dom.getMessages(0).catch(() => [] as string[]);
    if (messages.length) {
      sh.print(`${'Messages:'.padEnd(15)}`);
      messages.forEach((m, i) => sh.print(i === 0 ? ` ${m}\n` : `${''.padEnd(15)} ${m}\n`));
    }
    return ret;
  },
};
