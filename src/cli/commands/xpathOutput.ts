// --xpath/--wrap of dumpxml and net-dumpxml. Only plain element paths (/domain/devices/disk,
// ./devices/interface/mac) are understood; anything else is refused.
import { children, parseXml, type XmlElement } from '../../conf/xml/xmlTree.js';
import { serializeLibxml } from '../../conf/xml/xmlWriter.js';
import type { OptDef, ParsedCommand } from '../commandDef.js';
import type { Shell } from '../shell.js';

export const xpathOpts: OptDef[] = [
  { name: 'xpath', type: 'string', reqOpt: true, help: 'xpath expression to filter the XML document' },
  { name: 'wrap', type: 'bool', help: 'wrap xpath results in an common root element' },
];

function descendants(n: XmlElement): XmlElement[] {
  return children(n).flatMap((c) => [c, ...descendants(c)]);
}

/** Element paths: /a/b, ./b, b, //b, /a//b (child and descendant steps by name, or *). */
function select(root: XmlElement, expr: string): XmlElement[] | undefined {
  let path = expr.trim();
  const doc: XmlElement = { name: '#document', attrs: {}, children: [root], line: 0, column: 0 };
  let nodes: XmlElement[];
  if (path.startsWith('/')) {
    nodes = [doc];
  } else {
    nodes = [root];
    path = path.replace(/^\.(\/|$)/, '');
    if (path === '') return nodes;
    path = `/${path}`;
  }
  const steps = path.slice(1).split('/');
  let descend = false;
  for (const step of steps) {
    if (step === '') {
      if (descend) return undefined;
      descend = true;
      continue;
    }
    if (!/^([A-Za-z_][\w.:-]*|\*)$/.test(step)) return undefined;
    const pool = (n: XmlElement): XmlElement[] => (descend ? descendants(n) : children(n));
    nodes = nodes.flatMap((n) => pool(n).filter((c) => step === '*' || c.name === step));
    descend = false;
  }
  if (descend) return undefined;
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
  // tsvirt evaluates element paths only; other expressions get virsh's error for a non-node result.
  if (!nodes) return sh.fail(`internal error: Incorrect xpath '${expr}'`);
  if (sh.bool(cmd, 'wrap')) {
    const wrapped: XmlElement = { name: 'nodes', attrs: {}, children: nodes, line: 0, column: 0 };
    sh.print(`${serializeLibxml(wrapped, 0)}\n`);
  } else {
    for (const n of nodes) sh.print(`${serializeLibxml(n, 0)}\n`);
  }
  return true;
}
