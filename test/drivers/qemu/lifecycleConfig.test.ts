// Definitions the QEMU driver refuses or completes, each compared with real libvirt 9.0 (virsh
// on qemu:///embed, in-process, no daemon): panic devices (default model, one per model, ISA
// address only), lifecycle actions QEMU cannot carry out, and domain capabilities queries for
// virt types and architectures it cannot serve.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Connection, ErrorNumber, VirtError } from '../../../src/api/index.js';
import { skipUnless, tempDir } from '../../helpers/system.js';
import { openEmbed } from './driverHarness.js';

function domainXML(name: string, extra: { lifecycle?: string; devices?: string }): string {
  return `<domain type='qemu'>
  <name>${name}</name>
  <memory unit='MiB'>128</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>${extra.lifecycle ?? ''}
  <devices>${extra.devices ?? ''}</devices>
</domain>
`;
}

// name, XML, libvirt's code, libvirt's message
const REFUSED: [string, string, number, string][] = [
  [
    'two ISA panic devices',
    domainXML('bad1', { devices: "<panic model='isa'/><panic/>" }),
    ErrorNumber.XML_ERROR,
    "XML error: Multiple panic devices with model 'isa'",
  ],
  [
    'a panic device on PCI',
    domainXML('bad2', { devices: "<panic model='isa'><address type='pci' domain='0' bus='0' slot='7' function='0'/></panic>" }),
    ErrorNumber.CONFIG_UNSUPPORTED,
    'unsupported configuration: panic is supported only with ISA address type',
  ],
  [
    "panic model 's390' on x86",
    domainXML('bad3', { devices: "<panic model='s390'/>" }),
    ErrorNumber.CONFIG_UNSUPPORTED,
    "unsupported configuration: only S390 guests support panic device of model 's390'",
  ],
  [
    // QEMU 7.2 has pvpanic-pci, but libvirt 9.0 has no panic model for it (9.1 added 'pvpanic')
    "panic model 'pvpanic'",
    domainXML('bad7', { devices: "<panic model='pvpanic'/>" }),
    ErrorNumber.CONFIG_UNSUPPORTED,
    "unsupported configuration: unknown panic model 'pvpanic'",
  ],
  [
    "on_poweroff='restart' with on_reboot='destroy'",
    domainXML('bad4', { lifecycle: '<on_poweroff>restart</on_poweroff><on_reboot>destroy</on_reboot>' }),
    ErrorNumber.CONFIG_UNSUPPORTED,
    "unsupported configuration: qemu driver doesn't support 'onReboot' set to 'destroy and 'onPoweroff' set to 'reboot'",
  ],
  [
    "on_reboot='preserve'",
    domainXML('bad5', { lifecycle: '<on_reboot>preserve</on_reboot>' }),
    ErrorNumber.CONFIG_UNSUPPORTED,
    "unsupported configuration: qemu driver doesn't support the 'preserve' action for 'on_reboot'/'on_poweroff'",
  ],
  [
    "on_crash='rename-restart'",
    domainXML('bad6', { lifecycle: '<on_crash>rename-restart</on_crash>' }),
    ErrorNumber.CONFIG_UNSUPPORTED,
    "unsupported configuration: qemu driver doesn't support the 'rename-restart' action for 'on_reboot'/'on_poweroff'/'on_crash'",
  ],
];

// domcapabilities queries: virsh options, libvirt's code, libvirt's message
const DOMCAPS: [string[], { virttype?: string; arch?: string }, number, string][] = [
  [['--virttype', 'xen'], { virttype: 'xen' }, ErrorNumber.INVALID_ARG, "invalid argument: Emulator '/usr/bin/qemu-system-x86_64' does not support virt type 'xen'"],
  [['--virttype', 'hvf'], { virttype: 'hvf' }, ErrorNumber.INVALID_ARG, "invalid argument: Emulator '/usr/bin/qemu-system-x86_64' does not support virt type 'hvf'"],
  [['--virttype', 'foo'], { virttype: 'foo' }, ErrorNumber.INVALID_ARG, 'invalid argument: unknown virttype: foo'],
  [['--arch', 'nope'], { arch: 'nope' }, ErrorNumber.INVALID_ARG, 'invalid argument: unknown architecture: nope'],
];

/** The message of virsh's last "error: " line. */
function virshError(args: string[]): string {
  const r = spawnSync('virsh', args, { encoding: 'utf8', timeout: 60_000 });
  assert.notEqual(r.status, 0, `virsh ${args.join(' ')} succeeded`);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('error: '));
  return lines[lines.length - 1]!.slice('error: '.length);
}

describe('QEMU driver: refused definitions and queries, as libvirt 9.0', { skip: skipUnless({ commands: ['virsh', 'qemu-system-x86_64'] }) }, () => {
  const tmp = tempDir(`tsvirt-qemu-polish-lcconf-${process.pid}-`);
  const lvURI = `qemu:///embed?root=${join(tmp.path, 'libvirt')}`;
  let conn: Connection;

  before(async () => {
    conn = await openEmbed(join(tmp.path, 'tsvirt'));
  });
  after(async () => {
    await conn?.close();
    tmp.remove();
  });

  for (const [what, xml, code, message] of REFUSED) {
    test(`define refuses ${what}`, async () => {
      const file = join(tmp.path, 'dom.xml');
      writeFileSync(file, xml);
      assert.equal(virshError(['-c', lvURI, 'define', file]), message, 'libvirt says so');
      await assert.rejects(conn.domainDefineXML(xml), (err: unknown) => {
        assert.ok(err instanceof VirtError);
        assert.equal(err.code, code);
        assert.equal(err.message, message);
        return true;
      });
      assert.deepEqual(await conn.listDefinedDomains(10), [], 'nothing was defined');
    });
  }

  test("<panic/> gets model 'isa', the lifecycle actions libvirt accepts stay", async () => {
    const xml = domainXML('ok1', { lifecycle: '<on_crash>coredump-destroy</on_crash>', devices: "<panic><address type='isa' iobase='0x505'/></panic>" });
    const file = join(tmp.path, 'ok1.xml');
    writeFileSync(file, xml);
    const lv = spawnSync('sh', ['-c', `virsh -c '${lvURI}' define ${file} >/dev/null && virsh -c '${lvURI}' dumpxml --inactive ok1`], { encoding: 'utf8' });
    assert.equal(lv.status, 0, lv.stderr);
    const dom = await conn.domainDefineXML(xml);
    const ours = await dom.getXMLDesc(2);
    const pick = (x: string): string[] => [/<on_crash>.*<\/on_crash>/.exec(x)![0], /<panic[\s\S]*?<\/panic>/.exec(x)![0]];
    assert.deepEqual(pick(ours), pick(lv.stdout));
    assert.deepEqual(pick(ours), ['<on_crash>coredump-destroy</on_crash>', "<panic model='isa'>\n      <address type='isa' iobase='0x505'/>\n    </panic>"]);
    await dom.undefine();
  });

  for (const [opts, q, code, message] of DOMCAPS) {
    test(`domcapabilities ${opts.join(' ')}`, async () => {
      assert.equal(virshError(['-c', lvURI, 'domcapabilities', ...opts]), message, 'libvirt says so');
      await assert.rejects(conn.getDomainCapabilities(q), (err: unknown) => {
        assert.ok(err instanceof VirtError);
        assert.equal(err.code, code);
        assert.equal(err.message, message);
        return true;
      });
    });
  }
});
