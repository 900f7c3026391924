// A small, fast element tree over saxes: what every libvirt XML parser in src/conf reads from.
// Comments and processing instructions outside preserved subtrees do not matter to libvirt, but
// they are kept in the tree so that <metadata> can be written back verbatim.
import { SaxesParser } from 'saxes';
import { ErrorDomain, ErrorNumber, VirtError, virtError } from '../../errors/index.js';

export interface XmlComment {
  comment: string;
}

export type XmlChild = XmlElement | XmlComment | string;

export interface XmlElement {
  /** Qualified name as written, prefix included ('app1:foo'). */
  name: string;
  /** Attributes in document order; namespace declarations are ordinary attributes here. */
  attrs: Record<string, string>;
  children: XmlChild[];
  /** 1-based position of the start tag. */
  line: number;
  column: number;
}

export interface ParseXmlOptions {
  /** Name used in error messages: libvirt says '(domain_definition)' or '(network_definition)'. */
  url?: string;
  /** Error domain for malformed-XML errors (libvirt: DOMAIN for domains, NETWORK for networks). */
  errorDomain?: number;
}

export function isElement(c: XmlChild): c is XmlElement {
  return typeof c === 'object' && 'name' in c;
}

/**
 * Parses a whole document and returns its root element. Malformed input raises XML_DETAIL with
 * libvirt's shape: "(url):LINE: reason", then the offending line and a caret under the column.
 */
export function parseXml(text: string, opts: ParseXmlOptions = {}): XmlElement {
  const url = opts.url ?? '(xml)';
  const parser = new SaxesParser({ xmlns: false, position: true });
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let failure: { message: string; line: number; column: number } | undefined;

  parser.on('opentag', (tag) => {
    // without namespace processing saxes hands over a fresh plain object of strings per tag
    const attrs = tag.attributes as Record<string, string>;
    const el: XmlElement = { name: tag.name, attrs, children: [], line: parser.line, column: parser.column };
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(el);
    else root = el;
    if (!tag.isSelfClosing) stack.push(el);
  });
  parser.on('closetag', (tag) => {
    if (!tag.isSelfClosing) stack.pop();
  });
  const addText = (t: string): void => {
    const parent = stack[stack.length - 1];
    if (!parent) return;
    const last = parent.children[parent.children.length - 1];
    if (typeof last === 'string') parent.children[parent.children.length - 1] = last + t;
    else parent.children.push(t);
  };
  parser.on('text', addText);
  parser.on('cdata', addText);
  parser.on('comment', (c) => {
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push({ comment: c });
  });
  parser.on('error', (err) => {
    // saxes prefixes "line:column: "; keep the first failure only, as libxml2 does.
    if (!failure) {
      const reason = err.message.replace(/^[^:]*:?\d+:\d+: /, '');
      failure = { message: reason, line: parser.line, column: parser.column };
    }
  });

  try {
    parser.write(text).close();
  } catch {
    // saxes throws after emitting 'error'; the first recorded failure is reported below.
  }
  if (!failure && !root) failure = { message: 'Document is empty', line: 1, column: 0 };
  if (failure) throw malformed(text, url, failure, opts.errorDomain ?? ErrorDomain.DOMAIN);
  return root as XmlElement;
}

function malformed(
  text: string,
  url: string,
  f: { message: string; line: number; column: number },
  domain: number,
): VirtError {
  const lines = text.split('\n');
  const line = Math.min(Math.max(f.line, 1), Math.max(lines.length, 1));
  const src = lines[line - 1] ?? '';
  const col = Math.min(f.column, src.length);
  const detail = `${url}:${line}: ${f.message}\n${src}\n${'-'.repeat(Math.max(col - 1, 0))}^`;
  return virtError(ErrorNumber.XML_DETAIL, domain, detail, { line, column: col });
}

// ---- reading helpers: the vocabulary every parser in src/conf uses ----

/** First child element with this name. */
export function child(el: XmlElement, name: string): XmlElement | undefined {
  for (const c of el.children) if (typeof c === 'object' && 'name' in c && c.name === name) return c;
  return undefined;
}

/** All child elements, or those with this name. */
export function children(el: XmlElement, name?: string): XmlElement[] {
  const out: XmlElement[] = [];
  for (const c of el.children) if (typeof c === 'object' && 'name' in c && (name === undefined || c.name === name)) out.push(c);
  return out;
}

/** Concatenated text content (direct and nested), as libxml2's xmlNodeGetContent. */
export function textOf(el: XmlElement): string {
  let s = '';
  for (const c of el.children) {
    if (typeof c === 'string') s += c;
    else if ('name' in c) s += textOf(c);
  }
  return s;
}

/** Text of the first child element with this name, or undefined when absent. */
export function childText(el: XmlElement, name: string): string | undefined {
  const c = child(el, name);
  return c ? textOf(c) : undefined;
}

/** Follows a '/'-separated path of child element names. */
export function at(el: XmlElement, path: string): XmlElement | undefined {
  let cur: XmlElement | undefined = el;
  for (const part of path.split('/')) {
    if (!cur) return undefined;
    cur = child(cur, part);
  }
  return cur;
}
