// detach-interface: finds the interface by type (and MAC) in the domain's XML, as virsh does,
// and detaches that element (or prints it with --print-xml).
import { DomainModificationImpact, DomainXMLFlags } from '../../api/index.js';
import { macAddrTextEqual } from '../../conf/macAddr.js';
import { child, children, parseXml } from '../../conf/xml/xmlTree.js';
import { serializeLibxml } from '../../conf/xml/xmlWriter.js';
import type { CommandDef } from '../commandDef.js';
import { lookupDomain } from '../lookup.js';
import { domainOpt } from './domainAction.js';
import { deviceImpact, impactOpts } from './deviceFlags.js';

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
    const config = (flags & DomainModificationImpact.CONFIG) !== 0;
    const printXml = sh.bool(cmd, 'print-xml');
    // virsh adds its "Failed to detach interface" except where --print-xml looked at the live XML.
    const fail = (msg: string): false => {
      sh.error(msg);
      return printXml && !config ? false : sh.fail('Failed to detach interface');
    };
    const xml = await found.dom.getXMLDesc(config ? DomainXMLFlags.INACTIVE : 0);
    const devices = child(parseXml(xml), 'devices');
    const ofType = (devices ? children(devices, 'interface') : []).filter((el) => el.attrs.type === type);
    if (ofType.length === 0) return fail(`No interface found whose type is ${type}`);
    let matches = ofType;
    if (mac) {
      matches = ofType.filter((el) => {
        const address = child(el, 'mac')?.attrs.address;
        return address !== undefined && macAddrTextEqual(address, mac);
      });
      if (matches.length === 0) return fail(`No interface with MAC address ${mac} was found`);
      if (matches.length > 1) {
        return fail(`Domain has multiple interfaces matching MAC address ${mac}. You must use detach-device and specify the device pci address to remove it.`);
      }
    } else if (matches.length > 1) {
      return fail(`Domain has ${matches.length} interfaces. Please specify which one to detach using --mac`);
    }
    const dev = serializeLibxml(matches[0]!, 2);
    if (printXml) {
      sh.print(dev); // virsh prints the element without a newline of its own
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
