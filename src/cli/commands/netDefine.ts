import { NetworkDefineFlags } from '../../api/index.js';
import { xmlFileCommand } from './xmlFile.js';

export const command = xmlFileCommand({
  name: 'net-define',
  help: 'define an inactive persistent virtual network or modify an existing persistent one from an XML file',
  desc: 'Define or modify a persistent virtual network.',
  object: 'network',
  verb: 'define',
  submit: (conn, xml, validate) => (validate ? conn.networkDefineXMLFlags(xml, NetworkDefineFlags.VALIDATE) : conn.networkDefineXML(xml)),
  done: (name, file) => `Network ${name} defined from ${file}`,
});
