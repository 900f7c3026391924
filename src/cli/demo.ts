// `make demo`: tsvirt's QEMU driver, embedded in this process (qemu:///embed?root=./.demo, no
// daemon), running the test guest: define it with a tap on a bridge the demo makes, boot it,
// show its state, interfaces and readiness line, run a command on its console, shut it down
// with the ACPI power button, and remove every host change again.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { open, type Connection, type Domain } from '../api/index.js';
import { domainEventDetailString, domainEventString, domainStateReasonString, domainStateString } from './virshStrings.js';

// The guest is the project's (dist/src/cli/demo.js → the repository); the state goes to ./.demo.
const PROJECT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const ROOT = resolve('.demo');
const URI = `qemu:///embed?root=${ROOT}`;
const KERNEL = join(PROJECT, 'build/guest/vmlinuz');
const INITRD = join(PROJECT, 'build/guest/initrd.img');
const BRIDGE = 'tsvdemo0';
const HOST_IP = '10.213.77.1';
const GUEST_IP = '10.213.77.2';
const NAME = 'demo';

const tty = process.stdout.isTTY === true;
const bold = (s: string): string => (tty ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s: string): string => (tty ? `\x1b[2m${s}\x1b[0m` : s);
const out = (s: string): void => void process.stdout.write(s);
const t0 = performance.now();
const since = (t: number): string => `${((performance.now() - t) / 1000).toFixed(2)} s`;

function step(n: number, title: string): void {
  out(`\n${bold(`[${n}/7] ${title}`)}  ${dim(`(+${since(t0)})`)}\n`);
}

function domainXML(withBridge: boolean): string {
  const nic = withBridge
    ? `<interface type='bridge'><source bridge='${BRIDGE}'/><model type='virtio'/></interface>`
    : `<interface type='user'><model type='virtio'/></interface>`;
  return `<domain type='qemu'>
  <name>${NAME}</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>${KERNEL}</kernel>
    <initrd>${INITRD}</initrd>
    <cmdline>console=ttyS0 quiet</cmdline>
  </os>
  <features><acpi/></features>
  <devices>
    ${nic}
    <serial type='pty'/>
    <console type='pty'/>
  </devices>
</domain>
`;
}

/** Reads the guest's console: waits for text, types commands. */
class ConsoleReader {
  private text = '';
  private pos = 0;

  constructor(private readonly stream: NodeJS.ReadWriteStream) {
    stream.setEncoding('latin1');
    stream.on('data', (d: string) => (this.text += d.replace(/\r/g, '').replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')));
  }

  async waitFor(re: RegExp, timeoutMs = 90_000): Promise<RegExpExecArray> {
    const start = Date.now();
    for (;;) {
      const m = re.exec(this.text.slice(this.pos));
      if (m) {
        this.pos += m.index + m[0].length;
        return m;
      }
      if (Date.now() - start > timeoutMs) throw new Error(`no ${re} on the guest console within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Runs a command and returns what it printed (between marker lines its echo cannot match). */
  async run(command: string): Promise<string> {
    this.stream.write(`echo DEMO""BEGIN; ${command}; echo DEMO""END\n`);
    await this.waitFor(/\nDEMOBEGIN\n/);
    const m = await this.waitFor(/([\s\S]*?)DEMOEND\n/);
    return m[1]!;
  }
}

function sh(cmd: string, args: string[]): void {
  execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function bridgeExists(): boolean {
  try {
    sh('ip', ['link', 'show', 'dev', BRIDGE]);
    return true;
  } catch {
    return false;
  }
}

async function removeOld(conn: Connection): Promise<void> {
  const old = await conn.domainLookupByName(NAME).catch(() => undefined);
  if (!old) return;
  if (await old.isActive()) await old.destroy();
  await old.undefine();
}

async function main(): Promise<number> {
  out(bold(`tsvirt demo: the QEMU driver in this process, on ${URI}\n`));

  step(1, 'the test guest');
  if (!existsSync(KERNEL) || !existsSync(INITRD)) {
    out('  build/guest is missing: run `make guest` (make demo does it first)\n');
    return 1;
  }
  out(`  kernel ${KERNEL}\n  initrd ${INITRD}\n`);

  const root = process.getuid?.() === 0;
  let madeBridge = false;
  const conn = await open(URI);
  let dom: Domain | undefined;
  try {
    await conn.domainEventRegisterAny(null, 0, (ev) => {
      if (ev.eventId === 0) out(dim(`  event: ${domainEventString(ev.event)} ${domainEventDetailString(ev.event, ev.detail)}\n`));
    });
    await removeOld(conn);

    step(2, root ? `a bridge on the host: ${BRIDGE} ${HOST_IP}/24` : 'no bridge (not root): user-mode networking instead');
    if (root) {
      if (bridgeExists()) sh('ip', ['link', 'del', BRIDGE]);
      sh('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
      madeBridge = true;
      sh('ip', ['addr', 'add', `${HOST_IP}/24`, 'dev', BRIDGE]);
      sh('ip', ['link', 'set', BRIDGE, 'up']);
      out(`  made ${BRIDGE}\n`);
    }

    step(3, `define '${NAME}'`);
    dom = await conn.domainDefineXML(domainXML(root));
    out(`  ${ROOT}/etc/qemu/${NAME}.xml\n`);

    step(4, 'start it (paused until the console is open, so no output is missed)');
    let t = performance.now();
    await dom.createWithFlags(1 /* START_PAUSED */);
    const console = new ConsoleReader(await dom.openConsole());
    await dom.resume();
    out(`  QEMU running after ${since(t)}\n`);
    const { state, reason } = await dom.getState();
    out(`  state: ${domainStateString(state)} (${domainStateReasonString(state, reason)})\n`);
    const live = await dom.getXMLDesc();
    for (const m of live.matchAll(/<interface type='(\w+)'>([\s\S]*?)<\/interface>/g)) {
      const body = m[2]!;
      const mac = /<mac address='([^']+)'/.exec(body)?.[1];
      const dev = /<target dev='([^']+)'/.exec(body)?.[1];
      const br = /<source bridge='([^']+)'/.exec(body)?.[1];
      out(`  interface: ${m[1]}${br ? ` on ${br}` : ''}, host side ${dev ?? '(none)'}, guest MAC ${mac}\n`);
    }

    step(5, 'the guest boots (TCG)');
    t = performance.now();
    const ready = await console.waitFor(/TSVIRT-GUEST-READY[^\n]*/);
    out(`  ${ready[0]}  ${dim(`(${since(t)})`)}\n`);
    await console.waitFor(/tsvirt-guest# /);

    step(6, 'a command in the guest, through the console');
    const cmd = root ? `ip addr add ${GUEST_IP}/24 dev eth0 && ping -c 1 -W 5 ${HOST_IP} | grep -E 'bytes from|packets'` : 'uname -sr; cat /proc/uptime';
    out(`  tsvirt-guest# ${cmd}\n`);
    for (const line of (await console.run(cmd)).trim().split('\n')) out(`  ${line}\n`);

    step(7, 'shut it down (ACPI power button) and clean up');
    t = performance.now();
    const stopped = new Promise<void>((resolveStop) => {
      void conn.domainEventRegisterAny(dom!, 0, (ev) => {
        if (ev.eventId === 0 && ev.event === 5) resolveStop();
      });
    });
    await dom.shutdown();
    await stopped;
    const after = await dom.getState();
    out(`  ${domainStateString(after.state)} (${domainStateReasonString(after.state, after.reason)}) after ${since(t)}\n`);
    await dom.undefine();
    dom = undefined;
    return 0;
  } finally {
    if (dom && (await dom.isActive().catch(() => false))) await dom.destroy().catch(() => undefined);
    await conn.close();
    if (madeBridge) {
      sh('ip', ['link', 'del', BRIDGE]);
      out(`  removed ${BRIDGE}; the guest's tap went with QEMU\n`);
    }
    out(`\n${bold('done')} in ${since(t0)}. Logs: ${ROOT}/log/qemu/${NAME}.log\n`);
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
