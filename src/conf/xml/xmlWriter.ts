// Writes XML exactly as libvirt formats it (virBuffer): two-space indentation, attributes in
// single quotes, and the same escaping, so tsvirt's output diffs cleanly against libvirt's.
import type { XmlChild, XmlElement } from './xmlTree.js';

/** Attribute values; undefined and null are left out, as libvirt omits unset attributes. */
export type AttrValue = string | number | bigint | undefined | null;
export type Attrs = Record<string, AttrValue>;

const ESCAPES: Record<string, string> = { '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' };

/** libvirt's virBufferEscapeString: markup characters escaped, other control characters dropped. */
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /[<>&"'\x00-\x08\x0b\x0c\x0e-\x1f]/;

export function escapeXml(s: string): string {
  // most values need nothing: skip the replace (the writer is on the getXMLDesc hot path)
  if (!NEEDS_ESCAPE.test(s)) return s;
  // eslint-disable-next-line no-control-regex
  return s.replace(/[<>&"']|[\x00-\x08\x0b\x0c\x0e-\x1f]/g, (c) => ESCAPES[c] ?? '');
}

function formatAttrs(attrs: Attrs | undefined): string {
  if (!attrs) return '';
  let s = '';
  for (const k in attrs) {
    const v = attrs[k];
    if (v === undefined || v === null) continue;
    s += ` ${k}='${escapeXml(String(v))}'`;
  }
  return s;
}

export class XmlWriter {
  private out = '';
  private depth: number;

  constructor(depth = 0) {
    this.depth = depth;
  }

  private indent(): string {
    return '  '.repeat(this.depth);
  }

  /** `<name a='1'>` on its own line; what follows is indented one level deeper. */
  open(name: string, attrs?: Attrs): this {
    this.out += `${this.indent()}<${name}${formatAttrs(attrs)}>\n`;
    this.depth++;
    return this;
  }

  close(name: string): this {
    this.depth--;
    this.out += `${this.indent()}</${name}>\n`;
    return this;
  }

  /** `<name a='1'/>` */
  empty(name: string, attrs?: Attrs): this {
    this.out += `${this.indent()}<${name}${formatAttrs(attrs)}/>\n`;
    return this;
  }

  /** `<name a='1'>text</name>`; nothing at all when text is undefined. */
  text(name: string, text: AttrValue, attrs?: Attrs): this {
    if (text === undefined || text === null) return this;
    this.out += `${this.indent()}<${name}${formatAttrs(attrs)}>${escapeXml(String(text))}</${name}>\n`;
    return this;
  }

  /**
   * libvirt's virXMLFormatElement: writes the body one level deeper; if the body wrote nothing
   * the element collapses to `<name/>`, and if it also has no attributes it is left out.
   */
  element(name: string, attrs: Attrs | undefined, body?: (w: XmlWriter) => void): this {
    const inner = new XmlWriter(this.depth + 1);
    body?.(inner);
    const a = formatAttrs(attrs);
    if (inner.out) this.out += `${this.indent()}<${name}${a}>\n${inner.out}${this.indent()}</${name}>\n`;
    else if (a) this.out += `${this.indent()}<${name}${a}/>\n`;
    return this;
  }

  /** Like element(), but always written, as `<name/>` when empty. */
  elementAlways(name: string, attrs: Attrs | undefined, body?: (w: XmlWriter) => void): this {
    const inner = new XmlWriter(this.depth + 1);
    body?.(inner);
    const a = formatAttrs(attrs);
    if (inner.out) this.out += `${this.indent()}<${name}${a}>\n${inner.out}${this.indent()}</${name}>\n`;
    else this.out += `${this.indent()}<${name}${a}/>\n`;
    return this;
  }

  /**
   * libvirt's virXMLFormatElementInternal with inline content: `<name a='1'>text</name>`, or
   * `<name a='1'/>` without text, or nothing at all when there is neither.
   */
  inline(name: string, attrs: Attrs | undefined, text: AttrValue): this {
    const a = formatAttrs(attrs);
    const t = text === undefined || text === null ? '' : escapeXml(String(text));
    if (t) this.out += `${this.indent()}<${name}${a}>${t}</${name}>\n`;
    else if (a) this.out += `${this.indent()}<${name}${a}/>\n`;
    return this;
  }

  /** Appends text another writer produced at the same depth. */
  raw(text: string): this {
    this.out += text;
    return this;
  }

  /** Current nesting depth (for building a child writer). */
  get level(): number {
    return this.depth;
  }

  /** A preserved subtree (e.g. a <metadata> child) as libxml2 serializes it. */
  verbatim(el: XmlElement): this {
    this.out += `${this.indent()}${serializeLibxml(el, this.depth)}\n`;
    return this;
  }

  /** Whatever has been written; ends with a newline. */
  toString(): string {
    return this.out;
  }
}

// ---- libxml2's own serializer (xmlNodeDump with format=1), used for foreign subtrees ----

function escapeLibxmlAttr(s: string): string {
  return s.replace(/[<>&"\n\r\t]/g, (c) =>
    c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '&' ? '&amp;' : c === '"' ? '&quot;' : `&#${c.charCodeAt(0)};`,
  );
}

function escapeLibxmlText(s: string): string {
  return s.replace(/[<>&\r]/g, (c) => (c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '&' ? '&amp;' : '&#13;'));
}

/** Whitespace-only text between elements is dropped, as libvirt's parser does with blank nodes. */
function significant(children: XmlChild[]): XmlChild[] {
  return children.filter((c) => typeof c !== 'string' || c.trim() !== '');
}

/**
 * libxml2 formatting: double-quoted attributes; element-only content goes one child per line,
 * indented two spaces per level; an element with text content is written inline as is.
 */
export function serializeLibxml(el: XmlElement, depth: number, format = true): string {
  let s = `<${el.name}`;
  // libxml2 keeps namespace declarations apart from attributes and writes them first.
  for (const k in el.attrs) if (k === 'xmlns' || k.startsWith('xmlns:')) s += ` ${k}="${escapeLibxmlAttr(el.attrs[k] as string)}"`;
  for (const k in el.attrs) if (k !== 'xmlns' && !k.startsWith('xmlns:')) s += ` ${k}="${escapeLibxmlAttr(el.attrs[k] as string)}"`;
  const kids = significant(el.children);
  if (kids.length === 0) return `${s}/>`;
  s += '>';
  // Text anywhere among the children turns formatting off for the whole subtree, as in libxml2.
  const inline = !format || kids.some((c) => typeof c === 'string');
  const pad = '  '.repeat(depth + 1);
  for (const c of kids) {
    const body =
      typeof c === 'string'
        ? escapeLibxmlText(c)
        : 'comment' in c
          ? `<!--${c.comment}-->`
          : serializeLibxml(c, depth + 1, !inline);
    s += inline ? body : `\n${pad}${body}`;
  }
  if (!inline) s += `\n${'  '.repeat(depth)}`;
  return `${s}</${el.name}>`;
}
