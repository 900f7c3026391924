// attach-device, detach-device and update-device: a device's XML from a file, applied live and/or
// to the persistent config, with virsh's messages.
import { DomainDeviceModifyFlags, type Domain } from '../../api/index.js';
import type { CommandDef, OptDef } from '../commandDef.js';
import { lookupDomain } from '../lookup.js';
import { domainOpt } from './domainAction.js';
import { deviceImpact, impactOpts } from './deviceFlags.js';
import { readXmlFile } from './xmlFile.js';

export function deviceFileCommand(spec: {
  name: string;
  help: string;
  desc: string;
  verb: string;
  done: string;
  extraOpts?: OptDef[];
  act(dom: Domain, xml: string, flags: number): Promise<void>;
}): CommandDef {
  return {
    name: spec.name,
    help: spec.help,
    desc: spec.desc,
    opts: [domainOpt, { name: 'file', type: 'data', required: true, help: 'XML file' }, ...impactOpts, ...(spec.extraOpts ?? [])],
    async run(sh, cmd) {
      const found = await lookupDomain(sh, cmd);
      if (!found) return false;
      const file = sh.optString(cmd, 'file')!;
      let flags = await deviceImpact(sh, cmd, found.dom);
      if (sh.bool(cmd, 'force')) flags |= DomainDeviceModifyFlags.FORCE;
      const xml = readXmlFile(sh, file);
      if (xml === undefined) return false;
      try {
        await spec.act(found.dom, xml, flags);
      } catch (e) {
        return sh.fail(`Failed to ${spec.verb} device from ${file}`, e);
      }
      sh.printExtra(`${spec.done}\n`);
      return true;
    },
  };
}
