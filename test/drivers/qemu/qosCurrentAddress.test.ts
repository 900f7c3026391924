// The guest's own MAC in the domain XML (libvirt 11.2's <mac currentAddress='…'/>, which
// NIC_RX_FILTER_CHANGED fills in): kept through the status file so a restarted driver still
// shows it, shown in live XML only, never read from a config.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDomainXML, parseDomainXML } from '../../../src/conf/domain/index.js';
import { formatDomainStatus, parseDomainStatus } from '../../../src/drivers/qemu/statusFile.js';
import { ErrorNumber } from '../../../src/errors/index.js';
// Driver defaults only fill in what the XML leaves out; the test driver's need no probed QEMU.
import { testDomainDefaults } from '../../../src/drivers/test/domainDefaults.js';

const xml = (mac: string): string => `<domain type='qemu' id='3'>
  <name>cur</name>
  <uuid>6b0f8e0c-39b6-4a43-9d2b-1c0a3f52a001</uuid>
  <memory unit='KiB'>131072</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <interface type='ethernet'>
      ${mac}
      <target dev='vnet0'/>
      <model type='virtio'/>
      <alias name='net0'/>
    </interface>
  </devices>
</domain>`;

test('currentAddress: live XML and the status file keep it; inactive XML and config parsing drop it', () => {
  const live = parseDomainXML(xml(`<mac address='52:54:00:53:00:01' currentAddress='52:54:00:00:00:9A'/>`), { live: true, driver: testDomainDefaults });
  const net = live.devices.interfaces![0]!;
  assert.deepEqual(net.mac, { address: '52:54:00:53:00:01', currentAddress: '52:54:00:00:00:9a' });
  assert.match(formatDomainXML(live, { driver: testDomainDefaults }), /<mac address='52:54:00:53:00:01' currentAddress='52:54:00:00:00:9a'\/>/);
  assert.match(formatDomainXML(live, { driver: testDomainDefaults, inactive: true }), /<mac address='52:54:00:53:00:01'\/>/);
  assert.match(formatDomainXML(live, { driver: testDomainDefaults, migratable: true }), /<mac address='52:54:00:53:00:01'\/>/);

  const status = {
    state: 1,
    reason: 1,
    pid: 4242,
    startTime: 99,
    monitorPath: '/run/x/monitor.sock',
    dir: '/run/x',
    logFile: '/var/log/x.log',
    logStart: 0,
    consoles: [],
    diskNodes: [],
    nextNodeIndex: 1,
    gotShutdown: false,
    net: [{ mac: '52:54:00:53:00:01', alias: 'net0', type: 'ethernet' }],
    def: live,
  };
  const text = formatDomainStatus(status, testDomainDefaults);
  const back = parseDomainStatus(text, '/run/x.xml', testDomainDefaults);
  assert.equal(back.def.devices.interfaces![0]!.mac.currentAddress, '52:54:00:00:00:9a');

  // A config never carries the guest's runtime MAC.
  const cfg = parseDomainXML(xml(`<mac address='52:54:00:53:00:01' currentAddress='52:54:00:00:00:9a'/>`), { driver: testDomainDefaults });
  assert.equal(cfg.devices.interfaces![0]!.mac.currentAddress, undefined);
  // A status file with a bad one is refused with the MAC parser's error.
  assert.throws(
    () => parseDomainXML(xml(`<mac address='52:54:00:53:00:01' currentAddress='52:54:00'/>`), { live: true, driver: testDomainDefaults }),
    (err: { code?: number; message?: string }) => err.code === ErrorNumber.XML_ERROR && /unable to parse mac address '52:54:00'/.test(err.message ?? ''),
  );
});
