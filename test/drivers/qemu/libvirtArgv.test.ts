// libvirt's own command line as the reference: every fixture that real libvirt 9.0 can start on
// this machine (qemu:///embed, in-process, paused, inside a network namespace of this test) is
// started there, and the argv in its log is compared with buildQemuCommandLine's for the same
// XML — equal but for what tsvirt deliberately leaves out (the seccomp sandbox, the master-key
// secret) and what differs per start (fd numbers libvirt passes instead of paths, the monitor
// socket, the VNC display libvirt picks). The live XML's aliases and addresses are compared too.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { formatDomainXML, parseDomainXML } from '../../../src/conf/domain/index.js';
import { buildQemuCommandLine } from '../../../src/drivers/qemu/commandLine.js';
import { guestInitrd, guestKernel } from '../../helpers/guest.js';
import { enterTestNetns, type TestNetns } from '../../helpers/netns.js';
import { skipUnless, tempDir } from '../../helpers/system.js';
import { fixtureContext, fixtureDriver, fixtureNames, readFixture } from './qemuFixtures.js';

// Fixtures libvirt cannot start here: a host PCI device, and a type='network' interface
// (qemu:///embed has no network driver; interfaces.xml is run with that NIC on a bridge).
const NOT_HERE = new Set(['hostdev']);

// Prints its answer before tearing down: the embedded driver sometimes crashes in destroy.
const PY = `
import json, sys, libvirt
libvirt.virEventRegisterDefaultImpl()
root, path = sys.argv[1], sys.argv[2]
conn = libvirt.open('qemu:///embed?root=' + root)
try:
    d = conn.defineXML(open(path).read())
    d.createWithFlags(libvirt.VIR_DOMAIN_START_PAUSED)
    live = d.XMLDesc(0)
    log = open(root + '/log/qemu/' + d.name() + '.log').read().split('\\n')
    start = max(i for i, l in enumerate(log) if l.startswith('/usr/bin/qemu-system'))
    argv = []
    for l in log[start:]:
        argv.append(l.rstrip(' \\\\'))
        if not l.endswith('\\\\'):
            break
    sys.stdout.write(json.dumps({'argv': argv, 'live': live}))
    sys.stdout.flush()
    d.destroy()
    d.undefine()
except libvirt.libvirtError as e:
    sys.stdout.write(json.dumps({'error': e.get_error_message()}))
`;

/** One line per option, as libvirt's log writes it, with per-start values made comparable. */
function normalize(lines: string[]): string[] {
  return lines
    .filter((l) => !/^-object '\{"qom-type":"secret"/.test(l) && !l.startsWith('-sandbox') && !l.startsWith('-add-fd'))
    .map((l) =>
      l
        .replace(/^-chardev socket,id=charmonitor,.*/, '-chardev socket,id=charmonitor,MONITOR')
        .replace(/"fds?":"[\d:]+"/g, '"fd":"FD"')
        .replace(/(socket,id=[^,]+),(?:fd=\d+|path=[^,]+)/, '$1,SOCKET')
        .replace(/^(-chardev file,id=[^,]+),.*/, '$1,FILE')
        .replace(/logfile=[^,]+/, 'logfile=LOG')
        .replace(/^(-vnc [^:]+):\d+(,to=\d+)?/, '$1:DISPLAY'),
    );
}

/** Joins an argv into libvirt's log layout: each option with its value on one line. */
function logLines(binary: string, args: string[]): string[] {
  const q = (a: string): string => (/^[A-Za-z0-9_\-=.,:/+@%]*$/.test(a) && a !== '' ? a : `'${a}'`);
  const out = [binary];
  for (let i = 0; i < args.length; i++) {
    if (args[i]!.startsWith('-') && i + 1 < args.length && !args[i + 1]!.startsWith('-')) out.push(`${args[i]} ${q(args[i + 1]!)}`), i++;
    else out.push(q(args[i]!));
  }
  return out;
}

/** alias → address of every device in a live XML. */
function aliases(xml: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /<alias name='([^']+)'\/>\s*(?:<[^>]*\/>\s*)*?(<address [^>]*\/>)?/g;
  for (const m of xml.matchAll(re)) out.set(m[1]!, m[2] ?? '');
  return out;
}

describe('argv and live XML equal real libvirt 9.0 starting the same XML', { skip: skipUnless({ root: true, commands: ['virsh', 'qemu-system-x86_64', 'qemu-img'] }) }, () => {
  const tmp = tempDir(`tsv-qcl-${process.pid}-`);
  let ns: TestNetns | undefined;
  let loop: string | undefined;
  const results = new Map<string, { argv?: string[]; live?: string; error?: string }>();
  const rewritten = new Map<string, string>();

  before(() => {
    chmodSync(tmp.path, 0o755);
    ns = enterTestNetns('qemucmdlv');
    execFileSync('ip', ['link', 'add', 'br0', 'type', 'bridge']);
    execFileSync('ip', ['link', 'set', 'br0', 'up']);
    execFileSync('ip', ['link', 'add', 'eth9', 'type', 'veth', 'peer', 'name', 'eth9p']);
    execFileSync('ip', ['link', 'set', 'eth9', 'up']);
    execFileSync('ip', ['tuntap', 'add', 'mytap0', 'mode', 'tap']);
    const img = join(tmp.path, 'images');
    for (const d of ['images', 'log', 'sock', 'boot', 'root/etc']) mkdirSync(join(tmp.path, d), { recursive: true });
    // QEMU runs as root here, with its log in a file (no virtlogd)
    writeFileSync(join(tmp.path, 'root/etc/qemu.conf'), 'stdio_handler = "file"\nuser = "root"\ngroup = "root"\n');
    const block = join(img, 'block.raw');
    execFileSync('truncate', ['-s', '16M', block]);
    loop = execFileSync('losetup', ['-f', '--show', block], { encoding: 'utf8' }).trim();
    const items: [string, string][] = [];
    for (const name of fixtureNames()) {
      if (NOT_HERE.has(name)) continue;
      if (name === 'kvm-kernel-boot' && !existsSync(guestKernel)) continue;
      let xml = readFixture(name)
        .replace(/\/var\/lib\/tsvirt\/images/g, img)
        .replace(/\/dev\/tsvirt-test\/lv0/g, loop)
        .replace(/\/var\/log\/tsvirt\/qemu/g, join(tmp.path, 'log'))
        .replace(/\/run\/tsvirt\/qemu\/[a-z0-9-]+/g, join(tmp.path, 'sock'))
        .replace(/<interface type='network'>\s*(<mac [^>]*>)\s*<source network='default'\/>/, "<interface type='bridge'>$1<source bridge='br0'/>");
      if (name === 'kvm-kernel-boot') {
        copyFileSync(guestKernel, join(tmp.path, 'boot/vmlinuz'));
        copyFileSync(guestInitrd, join(tmp.path, 'boot/initrd.img'));
        xml = xml.replace(/\/var\/lib\/tsvirt\/boot/g, join(tmp.path, 'boot'));
      }
      for (const m of xml.matchAll(/<source (?:file|dev)='([^']+)'/g)) {
        const p = m[1]!;
        if (p.startsWith(img) && !existsSync(p)) execFileSync('qemu-img', ['create', '-q', '-f', p.endsWith('.qcow2') ? 'qcow2' : 'raw', p, '16M']);
      }
      const file = join(tmp.path, `${name}.xml`);
      writeFileSync(file, xml);
      rewritten.set(name, xml);
      items.push([name, file]);
    }
    // one libvirt per domain: the embedded driver does not survive several starts and
    // destroys in one process here
    for (const [name, file] of items) {
      const r = spawnSync('/usr/bin/python3', ['-c', PY, join(tmp.path, 'root'), file], { encoding: 'utf8' });
      results.set(name, r.stdout ? (JSON.parse(r.stdout) as { argv?: string[]; live?: string; error?: string }) : { error: `python-libvirt: ${r.status ?? r.signal}: ${r.stderr}` });
    }
  });
  after(() => {
    ns?.leave();
    if (loop) spawnSync('losetup', ['-d', loop]);
    tmp.remove();
  });

  for (const name of fixtureNames().filter((n) => !NOT_HERE.has(n))) {
    test(name, (t) => {
      const lv = results.get(name);
      if (!lv) return t.skip('not started (the test guest is not built)');
      // QEMU itself cannot run some XML on some hosts (host-passthrough under nested KVM here:
      // "failed to set MSR"); libvirt words QEMU's death at start one of two ways (a race).
      if (/qemu unexpectedly closed the monitor|process exited while connecting to monitor/.test(lv.error ?? '')) return t.skip(`QEMU cannot run ${name} on this host: ${lv.error}`);
      assert.equal(lv.error, undefined, `libvirt could not start ${name}: ${lv.error}`);
      const def = parseDomainXML(rewritten.get(name)!, { driver: fixtureDriver });
      const ctx = { ...fixtureContext(def), chardevSocketDir: join(tmp.path, 'sock') };
      const cmd = buildQemuCommandLine(def, ctx);
      assert.deepEqual(normalize(logLines(cmd.binary, cmd.args)), normalize(lv.argv!));
      assert.deepEqual(aliases(formatDomainXML(def, { id: 1 })), aliases(lv.live!));
    });
  }
});
