import type { CommandDef } from '../commandDef.js';
import { deviceFileCommand } from './deviceFile.js';

export const command: CommandDef = deviceFileCommand({
  name: 'attach-device',
  help: 'attach device from an XML file',
  desc: 'Attach device from an XML <file>.',
  verb: 'attach',
  done: 'Device attached successfully',
  act: (dom, xml, flags) => dom.attachDeviceFlags(xml, flags),
});
