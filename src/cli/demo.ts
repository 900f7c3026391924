// `make demo`: a short guided tour of tsvirt on test:///default (libvirt's in-memory test
// driver, rebuilt): shell commands as virsh prints them, and the lifecycle events the library
// delivers while they run. The QEMU driver's tour replaces this one once it exists.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from '../api/index.js';
import { registry } from './commandTable.js';
import { domainEventDetailString, domainEventString } from './virshStrings.js';
import { Shell } from './shell.js';

const URI = 'test:///default';

const DEMO_XML = `<domain type='test'>
  <name>demo</name>
  <memory unit='MiB'>256</memory>
  <vcpu>2</vcpu>
  <os><type>hvm</type></os>
  <devices>
    <interface type='network'><source network='default'/><model type='virtio'/></interface>
    <disk type='file' device='disk'><source file='/var/lib/demo.img'/><target dev='vda' bus='virtio'/></disk>
  </devices>
</domain>
`;

const bold = (s: string): string => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);

async function main(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), `tsvirt-demo-${process.pid}-`));
  const xmlFile = join(dir, 'demo.xml');
  writeFileSync(xmlFile, DEMO_XML);
  const out = (s: string): void => void process.stdout.write(s);
  const sh = new Shell({ uri: URI, io: { out, err: (s) => void process.stdout.write(s) }, registry });

  // A second connection to the same in-memory host, as an application would hold: it is told of
  // every lifecycle change the shell makes (test:///default connections share one host).
  const watcher = await open(URI, { readonly: true });
  await watcher.domainEventRegisterAny(null, 0, (ev) => {
    if (ev.eventId === 0) {
      out(`  [event] domain '${ev.dom.getName()}': ${domainEventString(ev.event)} ${domainEventDetailString(ev.event, ev.detail)}\n`);
    }
  });

  await watcher.networkEventRegisterAny(null, 0, (ev) => {
    out(`  [event] network '${ev.net.getName()}': ${['Defined', 'Undefined', 'Started', 'Stopped'][ev.event] ?? ev.event}\n`);
  });

  const step = async (title: string, cmd: string): Promise<void> => {
    out(`${bold(`# ${title}`)}\n$ tsvirt -c ${URI} '${cmd}'\n`);
    const cmds = await sh.parseString(cmd);
    if (cmds) await sh.run(cmds);
  };

  try {
    out(bold('tsvirt demo: libvirt rebuilt in TypeScript, on the test driver (test:///default)\n\n'));
    if (!(await sh.connect())) return 1;
    await step('What the test host starts with', 'list --all; net-list --all');
    await step('The running domain and the host', 'dominfo test; nodeinfo');
    await step('Define a domain from XML (defaults filled in as libvirt does)', `define ${xmlFile}; dumpxml demo`);
    await step('Start it, look at its devices', 'start demo; list; domiflist demo; domblklist demo');
    await step('Pause and resume', 'suspend demo; domstate demo --reason; resume demo; domstate demo --reason');
    await step("libvirt's errors, word for word", 'start demo');
    await step('Shut it down and remove it', 'shutdown demo; undefine demo; list --all');
    await step('Networks', 'net-destroy default; net-list --all; net-start default; net-info default');
    out(bold('Done. Try it yourself: bin/tsvirt -c test:///default   (interactive shell; "help" lists the commands)\n'));
    return 0;
  } finally {
    await watcher.close();
    await sh.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (status) => process.exit(status),
  (e: unknown) => {
    process.stderr.write(`demo failed: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  },
);
