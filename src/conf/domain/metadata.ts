// <metadata>: application data kept verbatim. libvirt keeps a copy of the element, then drops
// every child that is not an element in a namespace and every later child whose namespace URI
// repeats an earlier one; namespaces declared outside <metadata> (e.g. on <domain>) that the
// kept content uses are re-declared on <metadata> itself, as libxml2's node copy does.
import { children, isElement, type XmlChild, type XmlElement } from '../xml/xmlTree.js';
import type { ParseContext } from './parseContext.js';

type Scope = Map<string, string>;

function prefixOf(qname: string): string {
  const i = qname.indexOf(':');
  return i < 0 ? '' : qname.slice(0, i);
}

function declare(scope: Scope, el: XmlElement): Scope {
  let next: Scope | undefined;
  for (const k in el.attrs) {
    if (k === 'xmlns' || k.startsWith('xmlns:')) {
      next ??= new Map(scope);
      next.set(k === 'xmlns' ? '' : k.slice(6), el.attrs[k]!);
    }
  }
  return next ?? scope;
}

/** Namespaces in scope at `el`, from its ancestors' declarations (outermost first). */
export function inheritedScope(ancestors: XmlElement[]): Scope {
  let scope: Scope = new Map();
  for (const a of ancestors) scope = declare(scope, a);
  return scope;
}

function copyElement(el: XmlElement): XmlElement {
  return {
    name: el.name,
    attrs: { ...el.attrs },
    children: el.children.map((c: XmlChild) => (typeof c === 'string' ? c : 'comment' in c ? { comment: c.comment } : copyElement(c))),
    line: el.line,
    column: el.column,
  };
}

/**
 * Returns the sanitized copy libvirt stores for `<metadata>`, with `outer` the namespaces in
 * scope outside it. Marks the whole subtree as known for validation.
 */
export function parseMetadata(ctx: ParseContext, el: XmlElement, outer: Scope): XmlElement {
  ctx.useSubtree(el);
  const own = declare(outer, el);
  const kept: XmlElement[] = [];
  const seen = new Set<string>();
  for (const c of el.children) {
    if (!isElement(c)) continue;
    const scope = declare(own, c);
    const uri = scope.get(prefixOf(c.name));
    if (!uri) continue;
    if (seen.has(uri)) continue;
    seen.add(uri);
    kept.push(copyElement(c));
  }
  const copy: XmlElement = { name: el.name, attrs: {}, children: kept, line: el.line, column: el.column };
  // namespace declarations of <metadata> itself first, then those reconciled from outside
  const decls: Record<string, string> = {};
  for (const k in el.attrs) if (k === 'xmlns' || k.startsWith('xmlns:')) decls[k] = el.attrs[k]!;
  const localDeclared = new Set(Object.keys(decls).map((k) => (k === 'xmlns' ? '' : k.slice(6))));
  const reconcile = (node: XmlElement, inner: Set<string>): void => {
    const here = new Set(inner);
    for (const k in node.attrs) if (k === 'xmlns' || k.startsWith('xmlns:')) here.add(k === 'xmlns' ? '' : k.slice(6));
    const need = [prefixOf(node.name)];
    for (const k in node.attrs) {
      if (k === 'xmlns' || k.startsWith('xmlns:')) continue;
      const p = prefixOf(k);
      if (p && p !== 'xml') need.push(p);
    }
    for (const p of need) {
      if (here.has(p)) continue;
      const uri = outer.get(p);
      if (uri === undefined || (p === '' && !uri)) continue;
      const key = p ? `xmlns:${p}` : 'xmlns';
      if (!(key in decls)) decls[key] = uri;
      localDeclared.add(p);
      here.add(p);
    }
    for (const c of children(node)) reconcile(c, here);
  };
  for (const k of kept) reconcile(k, localDeclared);
  Object.assign(copy.attrs, decls);
  for (const k in el.attrs) if (k !== 'xmlns' && !k.startsWith('xmlns:')) copy.attrs[k] = el.attrs[k]!;
  return copy;
}
