import { DomainDefineFlags } from '../../api/index.js';
import { xmlFileCommand } from './xmlFile.js';

export const command = xmlFileCommand({
  name: 'define',
  help: "define (but don't start) a domain from an XML file",
  desc: 'Define a domain.',
  object: 'domain',
  verb: 'define',
  submit: (conn, xml, validate) => (validate ? conn.domainDefineXMLFlags(xml, DomainDefineFlags.VALIDATE) : conn.domainDefineXML(xml)),
  done: (name, file) => `Domain '${name}' defined from ${file}`,
});
