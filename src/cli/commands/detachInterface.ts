// detach-interface: finds the interface by type (and MAC) in the domain's XML, as virsh does,
// and detaches that element (or prints it with --print-xml).
import { DomainXMLFlags } from '../../api/index.js';
import { child, children, parseXml } from '../../conf/xml/xmlTree.js';
import { serializeLibxml } from '../../conf/xml/xmlWriter.js';
import type { CommandDef } from '../commandDef.js';
import { lookupDomain } from '../lookup.js';
import { domainOpt } from './domainAction.js';
import { deviceImpact, impactOpts } from './deviceFlags.js';

const CONFIG = 2;

function sameMac(a: string, b: string): boolean {
  const norm = (m: string): string => m.split(/[:-]/).map((o) => o.padStart(2, '0').toLowerCase()).join(':');
  return norm(a) === norm(b);
}

export const command: CommandDef = {
  name: 'detach-interface',
  help: 'detach network interface',
  desc: 'Detach network interface.',
  opts: [
    domainOpt,
    { name: 'type', type: 'data', required: true, help: 'network interface type' },
    { name: 'mac', type: 'string', reqOpt: true, help: 'MAC address' },
    ...impactOpts,
    { name: 'print-xml', type: 'bool', help: 'print XML document rather than detach the interface' },
  ],
  async run(sh, cmd) {
    const found = await lookupDomain(sh, cmd);
    if (!found) return false;
    const flags = await deviceImpact(sh, cmd, found.dom);
    const type = sh.optString(cmd, 'type')!;
    const mac = sh.optString(cmd, 'mac');
    const xml = await found.dom.getXMLDesc(flags & CONFIG ? DomainXMLFlags.INACTIVE : 0);
    const devices = child(parseXml(xml), 'devices');
    const ofType = (devices ? children(devices, 'interface') : []).filter((el) => el.attrs.type === type);
    if (ofType.length === 0) {
      sh.error(`No interface found whose type is ${type}`);
      return sh.fail('Failed to detach interface');
    }
    let matches = ofType;
    if (mac) {
      matches = ofType.filter((el) => sameMac(child(el, 'mac')?.attrs.address ?? '', mac));
      if (matches.length === 0) {
        sh.error(`No interface with MAC address ${mac} was found`);
        return sh.fail('Failed to detach interface');
      }
      if (matches.length > 1) {
        sh.error(`Domain has multiple interfaces matching MAC address ${mac}. You must use detach-device and specify the device pci address to remove it.`);
        return sh.fail('Failed to detach interface');
      }
    } else if (matches.length > 1) {
      sh.error(`Domain has ${matches.length} interfaces. Please specify which one to detach using --mac`);
      return sh.fail('Failed to detach interface');
    }
    const dev = serializeLibxml(matches[0]!, 2);
    if (sh.bool(cmd, 'print-xml')) {
      sh.print(`${dev}\n`);
      return true;
    }
    try {
      await found.dom.detachDeviceFlags(dev, flags);
    } catch (e) {
      return sh.fail('Failed to detach interface', e);
    }
    sh.printExtra('Interface detached successfully\n');
    return true;
  },
};
