import type { CommandDef } from '../commandDef.js';
import { deviceFileCommand } from './deviceFile.js';

export const command: CommandDef = deviceFileCommand({
  name: 'update-device',
  help: 'update device from an XML file',
  desc: 'Update device from an XML <file>.',
  verb: 'update',
  done: 'Device updated successfully',
  extraOpts: [{ name: 'force', type: 'bool', help: 'force device update' }],
  act: (dom, xml, flags) => dom.updateDeviceFlags(xml, flags),
});
