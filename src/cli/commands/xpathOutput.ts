// --xpath/--wrap of dumpxml and net-dumpxml. Only plain element paths (/domain/devices/disk,
// ./devices/interface/mac) are understood; anything else is refused.
import { parseXml, type XmlElement } from '../../conf/xml/xmlTree.js';
import { serializeLibxml } from '../../conf/xml/xmlWriter.js';
import type { OptDef, ParsedCommand } from '../commandDef.js';
import type { Shell } from '../shell.js';

export const xpathOpts: OptDef[] = [
  { name: 'xpath', type: 'string', reqOpt: true, help: 'xpath expression to filter the XML document' },
  { name: 'wrap', type: 'bool', help: 'wrap xpath results in an common root element' },
];

function select(root: XmlElement, expr: string): XmlElement[] | undefined {
  let path = expr.trim();
  let nodes: XmlElement[];
  if (path.startsWith('/')) {
    const parts = path.slice(1).split('/');
    if (parts[0] !== root.name) return [];
    nodes = [root];
    path = parts.slice(1).join('/');
  } else {
    nodes = [root];
    path = path.replace(/^\.\/?/, '');
  }
  if (path === '') return nodes;
  for (const step of path.split('/')) {
    if (!/^[A-Za-z_][\w.:-]*$/.test(step)) return undefined;
    nodes = nodes.flatMap((n) => n.children.filter((c): c is XmlElement => typeof c === 'object' && 'name' in c && c.name === step));
  }
  return nodes;
}

/** Prints the document, or what --xpath selects of it. */
export function printXPath(sh: Shell, cmd: ParsedCommand, xml: string): boolean {
  const expr = sh.optString(cmd, 'xpath');
  if (expr === undefined) {
    sh.print(xml);
    return true;
  }
  const nodes = select(parseXml(xml), expr);
  if (!nodes) return sh.fail(`Unable to evaluate XPath '${expr}'`);
  if (sh.bool(cmd, 'wrap')) {
    const wrapped: XmlElement = { name: 'nodes', attrs: {}, children: nodes, line: 0, column: 0 };
    sh.print(`${serializeLibxml(wrapped, 0)}\n`);
  } else {
    for (const n of nodes) sh.print(`${serializeLibxml(n, 0)}\n`);
  }
  return true;
}
