// The domain XML API beyond the fixture corpus: defaults, options and error details.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorDomain, ErrorNumber, VirtError } from '../../../src/errors/index.js';
import { formatDeviceXML, formatDomainXML, parseDeviceXML, parseDomainXML } from '../../../src/conf/domain/index.js';
import { testDomainDefaults } from '../../../src/drivers/test/domainDefaults.js';

const minimal = (extra = '', attrs = ''): string =>
  `<domain type='test'${attrs}><name>t</name><memory>1024</memory><os><type>hvm</type></os>${extra}</domain>`;

function err(fn: () => unknown): VirtError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof VirtError);
    return e;
  }
  assert.fail('no error');
}

test('a uuid is generated when absent and kept (canonical) when given', () => {
  const a = parseDomainXML(minimal());
  assert.match(a.uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.notEqual(parseDomainXML(minimal()).uuid, a.uuid);
  const b = parseDomainXML(minimal('<uuid>  AABBCCDD-EEFF00112233-4455-66778899  </uuid>'));
  assert.equal(b.uuid, 'aabbccdd-eeff-0011-2233-445566778899');
});

test('generic defaults: currentMemory, vcpu, boot, clock, lifecycle', () => {
  const def = parseDomainXML(minimal());
  assert.equal(def.currentMemory, 1024);
  assert.deepEqual(def.vcpu, { placement: 'static', count: 1 });
  assert.deepEqual(def.os.boot, ['hd']);
  assert.equal(def.clock.offset, 'utc');
  assert.deepEqual([def.onPoweroff, def.onReboot, def.onCrash], ['destroy', 'restart', 'destroy']);
});

test('the default architecture comes from the driver', () => {
  assert.equal(parseDomainXML(minimal(), { driver: testDomainDefaults }).os.arch, 'i686');
  assert.equal(parseDomainXML(minimal(), { driver: { defArch: 'aarch64' } }).os.arch, 'aarch64');
});

test('memory in every unit libvirt accepts is stored in KiB, rounded up', () => {
  const cases: [string, string, number][] = [
    ['b', '1025', 2], ['bytes', '2048', 2], ['byte', '1', 1], ['k', '3', 3], ['KiB', '3', 3], ['KB', '3', 3],
    ['M', '1', 1024], ['MiB', '2', 2048], ['MB', '1', 977], ['G', '1', 1048576], ['GiB', '1', 1048576],
    ['GB', '1', 976563], ['T', '1', 1073741824], ['TiB', '1', 1073741824], ['TB', '1', 976562500],
    ['P', '1', 1099511627776], ['PiB', '1', 1099511627776], ['PB', '1', 976562500000],
    ['E', '1', 1125899906842624], ['EiB', '1', 1125899906842624], ['EB', '1', 976562500000000], ['', '7', 7],
  ];
  for (const [unit, value, kib] of cases) {
    const u = unit ? ` unit='${unit}'` : '';
    const def = parseDomainXML(`<domain type='test'><name>t</name><memory${u}>${value}</memory><os><type>hvm</type></os></domain>`);
    assert.equal(def.memory, kib, `${value} ${unit}`);
  }
});

test('an unknown memory unit is INVALID_ARG naming the unit', () => {
  const e = err(() => parseDomainXML(minimal().replace('<memory>', "<memory unit='XB'>")));
  assert.equal(e.code, ErrorNumber.INVALID_ARG);
  assert.equal(e.message, "invalid argument: unknown suffix 'XB'");
  assert.equal(e.fault.value, 'XB');
});

test('a missing name is NO_NAME in the DOMAIN error domain', () => {
  const e = err(() => parseDomainXML("<domain type='test'><memory>1</memory><os><type>hvm</type></os></domain>"));
  assert.equal(e.code, ErrorNumber.NO_NAME);
  assert.equal(e.domain, ErrorDomain.DOMAIN);
});

test('malformed XML reports line and column', () => {
  const e = err(() => parseDomainXML("<domain type='test'>\n<name>x</name>\n<memory>1</memry>\n</domain>"));
  assert.equal(e.code, ErrorNumber.XML_DETAIL);
  assert.equal(e.fault.line, 3);
  assert.ok(typeof e.fault.column === 'number' && e.fault.column > 0);
  assert.match(e.message, /^\(domain_definition\):3: /);
});

test('unknown elements are dropped, unless validating', () => {
  const xml = minimal('<frob a="1"/><devices><watchdog model="ib700" bogus="x"/></devices>');
  const out = formatDomainXML(parseDomainXML(xml));
  assert.doesNotMatch(out, /frob|bogus/);
  const e = err(() => parseDomainXML(xml, { validate: true }));
  assert.equal(e.code, ErrorNumber.XML_INVALID_SCHEMA);
  assert.equal(e.domain, ErrorDomain.XML);
  assert.match(e.message, /Element domain has extra content: frob/);
  assert.equal(e.fault.element, 'frob');
  const e2 = err(() => parseDomainXML(minimal('<devices><watchdog model="ib700" bogus="x"/></devices>'), { validate: true }));
  assert.match(e2.message, /Invalid attribute bogus for element watchdog/);
  assert.equal(e2.fault.attribute, 'bogus');
});

test('the live id is written unless inactive', () => {
  const def = parseDomainXML(minimal());
  assert.match(formatDomainXML(def, { id: 7 }), /^<domain type='test' id='7'>/);
  assert.match(formatDomainXML(def, { id: 7, inactive: true }), /^<domain type='test'>/);
  const live = parseDomainXML(minimal('', " id='3'"), { live: true });
  assert.equal(live.id, 3);
  assert.equal(parseDomainXML(minimal('', " id='3'")).id, undefined);
});

test('the title may not contain a newline', () => {
  const e = err(() => parseDomainXML(minimal('<title>a\nb</title>')));
  assert.equal(e.code, ErrorNumber.XML_ERROR);
  assert.equal(e.message, "XML error: Domain title can't contain newlines");
});

test('metadata is kept verbatim with its namespaces', () => {
  const xml = minimal('<metadata><a:x xmlns:a="urn:a" k="v&amp;w"><a:y/>t</a:x><b:z xmlns:b="urn:b"/></metadata>');
  const out = formatDomainXML(parseDomainXML(xml));
  assert.match(out, /\n {2}<metadata>\n {4}<a:x xmlns:a="urn:a" k="v&amp;w"><a:y\/>t<\/a:x>\n {4}<b:z xmlns:b="urn:b"\/>\n {2}<\/metadata>\n/);
});

test('parseDeviceXML reads one device with the domain defaults; formatDeviceXML writes it unindented', () => {
  const def = parseDomainXML(minimal(), { driver: testDomainDefaults });
  const dev = parseDeviceXML(
    "<interface type='bridge'><mac address='52:54:00:01:02:03'/><source bridge='br0'/><vlan><tag id='7'/></vlan></interface>",
    def,
    { driver: testDomainDefaults },
  );
  assert.equal(dev.kind, 'interface');
  assert.equal(
    formatDeviceXML(dev),
    "<interface type='bridge'>\n  <mac address='52:54:00:01:02:03'/>\n  <source bridge='br0'/>\n  <vlan>\n    <tag id='7'/>\n  </vlan>\n</interface>\n",
  );
  const disk = parseDeviceXML("<disk type='file' device='cdrom'><target dev='hdc'/></disk>", def);
  assert.equal(disk.kind, 'disk');
  // the generic defaults apply: bus from the name, cdrom read-only, a drive address
  assert.match(formatDeviceXML(disk), /<target dev='hdc' bus='ide'\/>\n {2}<readonly\/>\n {2}<address type='drive' controller='0' bus='1' target='0' unit='0'\/>/);
  const e = err(() => parseDeviceXML('<warpcore/>', def));
  assert.equal(e.code, ErrorNumber.CONFIG_UNSUPPORTED);
  assert.equal(e.message, "unsupported configuration: unknown device type 'warpcore'");
  const bad = err(() => parseDeviceXML('<interface type=', def));
  assert.equal(bad.code, ErrorNumber.XML_DETAIL);
  assert.match(bad.message, /^\(device_definition\):1: /);
});

test('status XML keeps the actual network connection of an interface', () => {
  const xml = minimal(
    "<devices><interface type='network'><mac address='52:54:00:01:02:04'/><source network='default' portid='b5a4c5d8-9f0e-4c3b-8a1d-2e3f4a5b6c7d'/>" +
      "<actual type='bridge'><source bridge='virbr0'/><class id='3'/></actual><target dev='vnet0'/></interface></devices>",
    " id='5'",
  );
  const def = parseDomainXML(xml, { live: true });
  const nic = def.devices.interfaces![0]!;
  assert.deepEqual(nic.actual, { type: 'bridge', classId: 3, source: { bridge: 'virbr0' } });
  // live XML shows the actual connection in place of the network
  assert.match(formatDomainXML(def), /<interface type='bridge'>\n {6}<mac address='52:54:00:01:02:04'\/>\n {6}<source network='default' portid='b5a4c5d8-9f0e-4c3b-8a1d-2e3f4a5b6c7d' bridge='virbr0'\/>/);
  // status XML keeps the config and the <actual> subelement
  const status = formatDomainXML(def, { status: true });
  assert.match(status, /<interface type='network'>[\s\S]*<actual type='bridge'>\n {8}<source bridge='virbr0'\/>\n {8}<class id='3'\/>\n {6}<\/actual>/);
  assert.deepEqual(parseDomainXML(status, { live: true }).devices.interfaces![0]!.actual, nic.actual);
  // inactive XML drops the generated name and the port id
  const inactive = formatDomainXML(def, { inactive: true });
  assert.match(inactive, /<source network='default'\/>/);
  assert.doesNotMatch(inactive, /vnet0|actual/);
});
