import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorNumber, VirtError } from '../../src/errors/index.js';
import { child, children, parseXml, textOf } from '../../src/conf/xml/xmlTree.js';
import { XmlWriter, escapeXml } from '../../src/conf/xml/xmlWriter.js';

test('parseXml builds a tree with attributes in order', () => {
  const root = parseXml("<domain type='kvm' id=\"3\"><name>x &amp; y</name><devices><disk/><disk/></devices></domain>");
  assert.equal(root.name, 'domain');
  assert.deepEqual(Object.keys(root.attrs), ['type', 'id']);
  assert.equal(textOf(child(root, 'name')!), 'x & y');
  assert.equal(children(child(root, 'devices')!, 'disk').length, 2);
});

test('malformed XML reports line, column and the line itself (XML_DETAIL)', () => {
  const text = "<domain type='test'>\n  <name>x</name>\n<os><type>hvm</type></osx></domain>\n";
  assert.throws(
    () => parseXml(text, { url: '(domain_definition)' }),
    (e: unknown) => {
      assert.ok(e instanceof VirtError);
      assert.equal(e.code, ErrorNumber.XML_DETAIL);
      assert.equal(e.domain, 20);
      assert.match(e.message, /^\(domain_definition\):3: /);
      assert.match(e.message, /\n<os><type>hvm<\/type><\/osx><\/domain>\n-+\^$/);
      assert.equal(e.fault.line, 3);
      return true;
    },
  );
});

test('empty and truncated documents are refused', () => {
  assert.throws(() => parseXml(''), (e: unknown) => e instanceof VirtError && e.code === ErrorNumber.XML_DETAIL);
  assert.throws(() => parseXml('<domain><name>'), (e: unknown) => e instanceof VirtError && e.code === ErrorNumber.XML_DETAIL);
});

test('XmlWriter writes libvirt layout', () => {
  const w = new XmlWriter();
  w.open('domain', { type: 'kvm', id: undefined });
  w.text('name', "a'b\"<>&");
  w.element('features', undefined, (f) => f.empty('acpi'));
  w.element('empty', undefined);
  w.element('cpu', { mode: 'host-passthrough' });
  w.elementAlways('devices', undefined);
  w.close('domain');
  assert.equal(
    w.toString(),
    "<domain type='kvm'>\n  <name>a&apos;b&quot;&lt;&gt;&amp;</name>\n  <features>\n    <acpi/>\n  </features>\n" +
      "  <cpu mode='host-passthrough'/>\n  <devices/>\n</domain>\n",
  );
  assert.equal(escapeXml('a\u0001b\nc'), 'a' + 'b\nc');
});

test('foreign subtrees are written as libxml2 formats them', () => {
  const root = parseXml(
    '<metadata>\n  <app1:foo xmlns:app1="http://app1.org/app1/" a="x&quot;y\'z&#10;" b=\'q\'>\n' +
      '     <app1:c>  t  </app1:c>\n   <app1:d/>\n  </app1:foo>\n  <x:m xmlns:x="u">text<!-- c --></x:m></metadata>',
  );
  const w = new XmlWriter(1);
  for (const c of children(root)) w.verbatim(c);
  assert.equal(
    w.toString(),
    '  <app1:foo xmlns:app1="http://app1.org/app1/" a="x&quot;y\'z&#10;" b="q">\n' +
      '    <app1:c>  t  </app1:c>\n    <app1:d/>\n  </app1:foo>\n  <x:m xmlns:x="u">text<!-- c --></x:m>\n',
  );
});
