// The test driver's define-time checks: interfaces without a target are named testnet0,
// testnet1, … up to libvirt's limit of 1024 (past it, INTERNAL_ERROR from VIR_FROM_TEST), and a
// name with a newline is refused; a domain or network that clashes with another by UUID or name
// is refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorDomain, ErrorNumber, open, VirtError } from '../../../src/api/index.js';

const iface = (target?: string): string =>
  `<interface type='network'><source network='default'/>${target ? `<target dev='${target}'/>` : ''}</interface>`;
const domainXML = (name: string, ifaces: string[]): string =>
  `<domain type='test'><name>${name}</name><memory>1024</memory><os><type>hvm</type></os><devices>${ifaces.join('')}</devices></domain>`;

/** An assert.rejects check: a VirtError with exactly this code, domain and message. */
const refused = (code: number, domain: number, message: string) => (e: unknown) => {
  assert.ok(e instanceof VirtError);
  assert.equal(e.code, code);
  assert.equal(e.domain, domain);
  assert.equal(e.message, message);
  return true;
};

test('interfaces without a target get the first free testnetN; past 1024 the define fails', async () => {
  const conn = await open('test:///default');
  try {
    const dom = await conn.domainDefineXML(domainXML('two', [iface('testnet0'), iface()]));
    assert.match(await dom.getXMLDesc(0), /<target dev='testnet0'\/>[\s\S]*<target dev='testnet1'\/>/);
    const full = Array.from({ length: 1024 }, (_, i) => iface(`testnet${i}`));
    await assert.rejects(
      conn.domainDefineXML(domainXML('many', [...full, iface()])),
      refused(ErrorNumber.INTERNAL_ERROR, ErrorDomain.TEST, 'internal error: Exceeded max iface limit 1024'),
    );
    await assert.rejects(conn.domainLookupByName('many'));
  } finally {
    await conn.close();
  }
});

test('a domain name with a newline is refused as libvirt does (XML_DETAIL, domain XML)', async () => {
  const conn = await open('test:///default');
  try {
    await assert.rejects(conn.domainDefineXML(domainXML('a&#10;b', [])), refused(ErrorNumber.XML_DETAIL, ErrorDomain.XML, 'invalid char in name: \n'));
  } finally {
    await conn.close();
  }
});

test("a network definition that clashes by UUID or name is refused with libvirt's messages", async () => {
  const conn = await open('test:///default');
  const uuid = 'dd8fe884-6c02-601e-7551-cca97df1c5df'; // test:///default's network 'default'
  try {
    await assert.rejects(
      conn.networkDefineXML(`<network><name>other</name><uuid>${uuid}</uuid></network>`),
      refused(ErrorNumber.OPERATION_FAILED, ErrorDomain.NETWORK, `operation failed: network 'default' is already defined with uuid ${uuid}`),
    );
    await assert.rejects(
      conn.networkDefineXML(`<network><name>default</name><uuid>11111111-2222-3333-4444-555555555555</uuid></network>`),
      refused(ErrorNumber.OPERATION_FAILED, ErrorDomain.NETWORK, `operation failed: network 'default' already exists with uuid ${uuid}`),
    );
    await assert.rejects(
      conn.networkCreateXML(`<network><name>default</name><uuid>${uuid}</uuid></network>`),
      refused(ErrorNumber.OPERATION_INVALID, ErrorDomain.NETWORK, "Requested operation is not valid: network is already active as 'default'"),
    );
  } finally {
    await conn.close();
  }
});

test("a domain definition that clashes by UUID or name is refused with libvirt's messages", async () => {
  const conn = await open('test:///default');
  const uuid = '6695eb01-f6a4-8304-79aa-97f2502e193f'; // test:///default's domain 'test'
  const xml = (name: string, u: string): string =>
    `<domain type='test'><name>${name}</name><uuid>${u}</uuid><memory>1024</memory><os><type>hvm</type></os></domain>`;
  try {
    await assert.rejects(conn.domainDefineXML(xml('x', uuid)), refused(ErrorNumber.OPERATION_FAILED, ErrorDomain.DOMAIN, `operation failed: domain 'test' is already defined with uuid ${uuid}`));
    await assert.rejects(
      conn.domainDefineXML(xml('test', '11111111-2222-3333-4444-555555555555')),
      refused(ErrorNumber.OPERATION_FAILED, ErrorDomain.DOMAIN, `operation failed: domain 'test' already exists with uuid ${uuid}`),
    );
    await assert.rejects(conn.domainCreateXML(xml('test', uuid), 0), refused(ErrorNumber.OPERATION_INVALID, ErrorDomain.DOMAIN, "Requested operation is not valid: domain 'test' is already active"));
  } finally {
    await conn.close();
  }
});
