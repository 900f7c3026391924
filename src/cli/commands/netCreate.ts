import { NetworkCreateFlags } from '../../api/index.js';
import { xmlFileCommand } from './xmlFile.js';

export const command = xmlFileCommand({
  name: 'net-create',
  help: 'create a network from an XML file',
  desc: 'Create a network.',
  object: 'network',
  verb: 'create',
  submit: (conn, xml, validate) => (validate ? conn.networkCreateXMLFlags(xml, NetworkCreateFlags.VALIDATE) : conn.networkCreateXML(xml)),
  done: (name, file) => `Network ${name} created from ${file}`,
});
