import type { CommandDef } from '../commandDef.js';
import { deviceFileCommand } from './deviceFile.js';

export const command: CommandDef = deviceFileCommand({
  name: 'detach-device',
  help: 'detach device from an XML file',
  desc: 'Detach device from an XML <file>',
  verb: 'detach',
  done: 'Device detached successfully',
  act: (dom, xml, flags) => dom.detachDeviceFlags(xml, flags),
});
