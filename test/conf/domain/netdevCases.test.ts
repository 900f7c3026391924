// The XML-level (define-time) cases of network-devices.md §6, owned by the domain XML layer.
// Expected codes, domains and texts are what libvirt 9.0's test driver gives on define (the
// matching bad/ documents are also compared live against python-libvirt).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorDomain, ErrorNumber, VirtError } from '../../../src/errors/index.js';
import { formatDomainXML, parseDomainXML, type DomainDef } from '../../../src/conf/domain/index.js';
import { validateActualInterface, type InterfaceDef } from '../../../src/conf/domain/interface.js';
import { testDomainDefaults } from '../../../src/drivers/test/domainDefaults.js';

const dom = (devices: string): string =>
  `<domain type='test'><name>n</name><memory unit='MiB'>64</memory><os><type>hvm</type></os><devices>${devices}</devices></domain>`;

function define(xml: string): DomainDef {
  return parseDomainXML(xml, { driver: testDomainDefaults });
}

function refused(xml: string): VirtError {
  try {
    define(xml);
  } catch (e) {
    assert.ok(e instanceof VirtError, String(e));
    return e;
  }
  assert.fail('accepted');
}

function nics(def: DomainDef): InterfaceDef[] {
  return def.devices.interfaces ?? [];
}

test("netdev case 49: <target managed='no'> on a bridge interface is refused at define", () => {
  const e = refused(dom("<interface type='bridge'><source bridge='br0'/><target dev='t0' managed='no'/></interface>"));
  assert.equal(e.code, ErrorNumber.CONFIG_UNSUPPORTED);
  assert.equal(e.domain, ErrorDomain.DOMAIN);
  assert.equal(e.message, "unsupported configuration: unmanaged target dev is not supported on interfaces of type 'bridge'");
  assert.equal(e.fault.element, 'interface/target');
  // every other type but ethernet is refused the same way
  for (const t of ["network'><source network='default'/>", "direct'><source dev='eth0'/>", "user'>"]) {
    const e2 = refused(dom(`<interface type='${t}<target dev='t0' managed='no'/></interface>`));
    assert.match(e2.message, /unmanaged target dev is not supported on interfaces of type '(network|direct|user)'/);
  }
  // ethernet accepts it
  const ok = define(dom("<interface type='ethernet'><target dev='t0' managed='no'/></interface>"));
  assert.deepEqual(nics(ok)[0]!.target, { dev: 't0', managed: false });
});

test("netdev case 50: inactive parse keeps <target dev='vnet7' managed='no'/> and drops a generated vnet7", () => {
  const kept = parseDomainXML(dom("<interface type='ethernet'><mac address='52:54:00:00:00:50'/><target dev='vnet7' managed='no'/></interface>"));
  assert.deepEqual(nics(kept)[0]!.target, { dev: 'vnet7', managed: false });
  assert.match(formatDomainXML(kept, { inactive: true }), /\n {6}<target dev='vnet7' managed='no'\/>\n/);

  const dropped = parseDomainXML(dom("<interface type='ethernet'><mac address='52:54:00:00:00:51'/><target dev='vnet7'/></interface>"));
  assert.equal(nics(dropped)[0]!.target?.dev, undefined);
  assert.doesNotMatch(formatDomainXML(dropped, { inactive: true }), /<target/);

  // managed='yes' is not a reason to keep it, and macvtap/macvlan names are generated too
  for (const t of ["<target dev='vnet9' managed='yes'/>", "<target dev='macvtap3'/>", "<target dev='macvlan0'/>"]) {
    const d = parseDomainXML(dom(`<interface type='ethernet'>${t}</interface>`));
    assert.equal(nics(d)[0]!.target?.dev, undefined, t);
  }
  // live (status) XML keeps whatever name the host side has
  const live = parseDomainXML(dom("<interface type='ethernet'><target dev='vnet7'/></interface>"), { live: true });
  assert.equal(nics(live)[0]!.target?.dev, 'vnet7');
});

test("netdev case 54: a multicast <mac address='01:00:5e:00:00:01'/> is XML_ERROR", () => {
  const e = refused(dom("<interface type='network'><mac address='01:00:5e:00:00:01'/><source network='default'/></interface>"));
  assert.equal(e.code, ErrorNumber.XML_ERROR);
  assert.equal(e.domain, ErrorDomain.DOMAIN);
  assert.equal(e.message, "XML error: expected unicast mac address, found multicast '01:00:5e:00:00:01'");
  assert.deepEqual([e.fault.element, e.fault.attribute, e.fault.value], ['interface/mac', 'address', '01:00:5e:00:00:01']);
  const bad = refused(dom("<interface type='network'><mac address='52:54:00:zz:00:01'/><source network='default'/></interface>"));
  assert.equal(bad.code, ErrorNumber.XML_ERROR);
  assert.equal(bad.message, "XML error: unable to parse mac address '52:54:00:zz:00:01'");
  // a unicast MAC is kept, an absent one is generated under 52:54:00
  assert.equal(nics(define(dom("<interface type='user'><mac address='52:54:00:AB:cd:01'/></interface>")))[0]!.mac.address, '52:54:00:ab:cd:01');
  assert.match(nics(define(dom("<interface type='user'/>")))[0]!.mac.address, /^52:54:00(:[0-9a-f]{2}){3}$/);
});

test("netdev case 55: vlan tag 4096, trunk='no' with two tags and an empty <vlan/> are XML_ERROR", () => {
  const cases: [string, string][] = [
    ["<vlan><tag id='4096'/></vlan>", 'XML error: vlan tag id 4096 too large (maximum 4095)'],
    [
      "<vlan trunk='no'><tag id='1'/><tag id='2'/></vlan>",
      `XML error: invalid "trunk='no'" in <vlan> - trunk='yes' is required for more than one vlan tag`,
    ],
    ['<vlan/>', "XML error: missing tag id - each <vlan> must have at least one <tag id='n'/> subelement"],
  ];
  for (const [vlan, msg] of cases) {
    const e = refused(dom(`<interface type='network'><source network='default'/>${vlan}</interface>`));
    assert.equal(e.code, ErrorNumber.XML_ERROR, vlan);
    // libvirt reports these from its util code: error domain NONE
    assert.equal(e.domain, ErrorDomain.NONE, vlan);
    assert.equal(e.message, msg);
  }
  const ok = define(dom("<interface type='network'><source network='default'/><vlan><tag id='4095'/></vlan></interface>"));
  assert.deepEqual(nics(ok)[0]!.vlan, { trunk: false, tag: [{ id: 4095 }] });
});

test('netdev case 57: floor outside <inbound>, peak without average, floor with peak, floor on a bridge', () => {
  const cases: [string, string, number, string][] = [
    ['network', "<outbound floor='1'/>", ErrorNumber.CONFIG_UNSUPPORTED, "unsupported configuration: 'floor' attribute allowed only in <inbound> element"],
    ['network', "<inbound peak='5'/>", ErrorNumber.XML_DETAIL, 'Missing mandatory average or floor attributes'],
    ['network', "<inbound floor='5' peak='7'/>", ErrorNumber.CONFIG_UNSUPPORTED, "unsupported configuration: 'peak' and 'burst' require 'average' attribute"],
    ['bridge', "<inbound floor='5'/>", ErrorNumber.CONFIG_UNSUPPORTED, 'unsupported configuration: floor attribute is not supported for this config'],
  ];
  for (const [type, dir, code, msg] of cases) {
    const src = type === 'network' ? "<source network='default'/>" : "<source bridge='br0'/>";
    const e = refused(dom(`<interface type='${type}'>${src}<bandwidth>${dir}</bandwidth></interface>`));
    assert.equal(e.code, code, dir);
    assert.equal(e.domain, ErrorDomain.NONE, dir);
    assert.equal(e.message, msg);
  }
  // a floor on type='network' inbound is fine and written back in libvirt's attribute order
  const ok = define(dom("<interface type='network'><source network='default'/><bandwidth><inbound burst='9' floor='5' average='7'/></bandwidth></interface>"));
  assert.match(formatDomainXML(ok), /<inbound average='7' floor='5' burst='9'\/>/);
});

test('netdev case 58: bandwidth on a hostdev interface is accepted at define and refused once the connection is known', () => {
  const xml = dom(
    "<interface type='hostdev' managed='yes'><mac address='52:54:00:6d:90:02'/>" +
      "<source><address type='pci' domain='0x0000' bus='0x03' slot='0x10' function='0x1'/></source>" +
      "<bandwidth><inbound average='1000'/></bandwidth></interface>",
  );
  // libvirt 9.0 defines it (the check belongs to virDomainActualNetDefValidate, at start)
  const def = define(xml);
  const nic = nics(def)[0]!;
  assert.equal(nic.type, 'hostdev');
  assert.deepEqual(nic.bandwidth, { inbound: { average: 1000n } });
  assert.throws(
    () => validateActualInterface(nic),
    (e: unknown) =>
      e instanceof VirtError &&
      e.code === ErrorNumber.CONFIG_UNSUPPORTED &&
      e.message === 'unsupported configuration: interface 52:54:00:6d:90:02 - bandwidth settings are not supported for hostdev interfaces',
  );
  // the same interface without bandwidth passes
  delete nic.bandwidth;
  validateActualInterface(nic);
});
