// domiftune: read or set an interface's bandwidth (virDomainGet/SetInterfaceParameters).
import { DomainModificationImpact, TypedParameterType, type TypedParam } from '../../api/index.js';
import type { CommandDef } from '../commandDef.js';
import { lookupDomain } from '../lookup.js';
import { domainOpt } from './domainAction.js';
import { checkTuneRate, parseRate, type Rate } from './interfaceRate.js';

export const command: CommandDef = {
  name: 'domiftune',
  help: 'get/set parameters of a virtual interface',
  desc: "Get/set parameters of a domain's virtual interface.",
  opts: [
    domainOpt,
    { name: 'interface', type: 'data', required: true, help: 'interface device (MAC Address)' },
    { name: 'inbound', type: 'string', reqOpt: true, help: "control domain's incoming traffics" },
    { name: 'outbound', type: 'string', reqOpt: true, help: "control domain's outgoing traffics" },
    { name: 'config', type: 'bool', help: 'affect next boot' },
    { name: 'live', type: 'bool', help: 'affect running domain' },
    { name: 'current', type: 'bool', help: 'affect current domain' },
  ],
  async run(sh, cmd) {
    sh.exclusive(cmd, 'current', 'live');
    sh.exclusive(cmd, 'current', 'config');
    let flags = 0;
    if (sh.bool(cmd, 'config')) flags |= DomainModificationImpact.CONFIG;
    if (sh.bool(cmd, 'live')) flags |= DomainModificationImpact.LIVE;
    const found = await lookupDomain(sh, cmd);
    if (!found) return false;
    const device = sh.optString(cmd, 'interface')!;
    const inStr = sh.optString(cmd, 'inbound');
    const outStr = sh.optString(cmd, 'outbound');
    // Each direction is parsed and checked before the next, as virsh does.
    const rate = (name: 'inbound' | 'outbound', text: string | undefined): Rate | undefined => {
      if (text === undefined) return undefined;
      const r = parseRate(text);
      checkTuneRate(name, r);
      return r;
    };
    const inbound = rate('inbound', inStr);
    const outbound = rate('outbound', outStr);

    if (!inbound && !outbound) {
      let params: TypedParam[];
      try {
        params = await found.dom.getInterfaceParameters(device, flags);
      } catch (e) {
        // virsh asks libvirt twice: for the number of parameters (which fails on bad flags or a
        // domain that is not running), then for the values (which fails on an unknown device).
        const lookup = e instanceof Error && /is not a known interface/.test(e.message);
        return sh.fail(lookup ? 'Unable to get interface parameters' : 'Unable to get number of interface parameters', e);
      }
      for (const p of params) sh.print(`${p.field.padEnd(15)}: ${String(p.value)}\n`);
      return true;
    }
    const params: TypedParam[] = [];
    const add = (field: string, value: number): void => void params.push({ field, type: TypedParameterType.UINT, value });
    if (inbound) {
      add('inbound.average', inbound.average);
      if (inbound.peak) add('inbound.peak', inbound.peak);
      if (inbound.burst) add('inbound.burst', inbound.burst);
      if (inbound.floor) add('inbound.floor', inbound.floor);
    }
    if (outbound) {
      add('outbound.average', outbound.average);
      if (outbound.peak) add('outbound.peak', outbound.peak);
      if (outbound.burst) add('outbound.burst', outbound.burst);
    }
    try {
      await found.dom.setInterfaceParameters(device, params, flags);
    } catch (e) {
      return sh.fail('Unable to set interface parameters', e);
    }
    return true;
  },
};
