// attach-interface: builds an <interface> from options as virsh does (same element order) and
// attaches it, or prints it with --print-xml.
import type { CommandDef } from '../commandDef.js';
import { lookupDomain } from '../lookup.js';
import { OptionError } from '../shell.js';
import { domainOpt } from './domainAction.js';
import { deviceImpact, impactOpts } from './deviceFlags.js';
import { checkRates, parseRate, rateElement } from './interfaceRate.js';

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/'/g, '&apos;');

/** "0000:01:00.1" or "01:00.1" → the <address> of a PCI host device. */
function pciAddress(text: string): string {
  const m = /^(?:([0-9a-fA-F]{1,4}):)?([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})\.([0-7])$/.exec(text);
  if (!m) throw new OptionError(`cannot parse pci address '${text}' for network interface`);
  const hex = (v: string, w: number): string => `0x${v.toLowerCase().padStart(w, '0')}`;
  return `<address type='pci' domain='${hex(m[1] ?? '0', 4)}' bus='${hex(m[2]!, 2)}' slot='${hex(m[3]!, 2)}' function='0x${m[4]}'/>`;
}

export const command: CommandDef = {
  name: 'attach-interface',
  help: 'attach network interface',
  desc: 'Attach new network interface.',
  opts: [
    domainOpt,
    { name: 'type', type: 'data', required: true, help: 'network interface type' },
    { name: 'source', type: 'data', required: true, help: 'source of network interface' },
    { name: 'target', type: 'string', reqOpt: true, help: 'target network name' },
    { name: 'mac', type: 'string', reqOpt: true, help: 'MAC address' },
    { name: 'script', type: 'string', reqOpt: true, help: 'script used to bridge network interface' },
    { name: 'model', type: 'string', reqOpt: true, help: 'model type' },
    { name: 'alias', type: 'string', reqOpt: true, help: 'custom alias name of interface device' },
    { name: 'inbound', type: 'string', reqOpt: true, help: "control domain's incoming traffics" },
    { name: 'outbound', type: 'string', reqOpt: true, help: "control domain's outgoing traffics" },
    ...impactOpts,
    { name: 'print-xml', type: 'bool', help: 'print XML document rather than attach the interface' },
    { name: 'managed', type: 'bool', help: 'libvirt will automatically detach/attach the device from/to host' },
    { name: 'source-mode', type: 'string', reqOpt: true, help: 'mode attribute of <source/> element' },
  ],
  async run(sh, cmd) {
    const found = await lookupDomain(sh, cmd);
    if (!found) return false;
    const flags = await deviceImpact(sh, cmd, found.dom);
    const type = sh.optString(cmd, 'type')!;
    const source = sh.optString(cmd, 'source')!;
    const target = sh.optString(cmd, 'target');
    const mac = sh.optString(cmd, 'mac');
    const script = sh.optString(cmd, 'script');
    const model = sh.optString(cmd, 'model');
    const alias = sh.optString(cmd, 'alias');
    const inStr = sh.optString(cmd, 'inbound');
    const outStr = sh.optString(cmd, 'outbound');
    const sourceMode = sh.optString(cmd, 'source-mode');
    const managed = sh.bool(cmd, 'managed');
    if (sourceMode !== undefined && sourceMode !== 'server' && sourceMode !== 'client') throw new OptionError(`Invalid source mode: ${sourceMode}`);
    const inbound = inStr !== undefined ? parseRate(inStr) : undefined;
    const outbound = outStr !== undefined ? parseRate(outStr) : undefined;
    checkRates(inbound, outbound);

    const lines: string[] = [];
    switch (type) {
      case 'network':
        lines.push(`<source network='${esc(source)}'/>`);
        break;
      case 'bridge':
        lines.push(`<source bridge='${esc(source)}'/>`);
        break;
      case 'direct':
        lines.push(`<source dev='${esc(source)}'/>`);
        break;
      case 'hostdev':
        lines.push('<source>', `  ${pciAddress(source)}`, '</source>');
        break;
      case 'vhostuser':
        if (sourceMode === undefined) throw new OptionError('source-mode is mandatory');
        lines.push(`<source type='unix' path='${esc(source)}' mode='${sourceMode}'/>`);
        break;
      default:
        sh.error(`No support for ${type} in command 'attach-interface'`);
        return false;
    }
    if (target) lines.push(`<target dev='${esc(target)}'/>`);
    if (mac) lines.push(`<mac address='${esc(mac)}'/>`);
    if (script) lines.push(`<script path='${esc(script)}'/>`);
    if (model) lines.push(`<model type='${esc(model)}'/>`);
    if (alias) lines.push(`<alias name='${esc(alias)}'/>`);
    if (inbound || outbound) {
      lines.push('<bandwidth>');
      if (inbound) lines.push(`  ${rateElement('inbound', inbound)}`);
      if (outbound) lines.push(`  ${rateElement('outbound', outbound)}`);
      lines.push('</bandwidth>');
    }
    const open = `<interface type='${esc(type)}'${type === 'hostdev' && managed ? " managed='yes'" : ''}>`;
    const xml = `${open}\n${lines.map((l) => `  ${l}`).join('\n')}\n</interface>\n`;
    if (sh.bool(cmd, 'print-xml')) {
      sh.print(xml);
      return true;
    }
    try {
      await found.dom.attachDeviceFlags(xml, flags);
    } catch (e) {
      return sh.fail('Failed to attach interface', e);
    }
    sh.printExtra('Interface attached successfully\n');
    return true;
  },
};
