// The QEMU command-line fixtures (test/fixtures/qemu): NAME.xml in, NAME.out.xml (libvirt's
// define + dumpxml) and NAME.args (the argv golden) out, with the probed capabilities of
// QEMU 7.2 (caps-x86_64-7.2.json) so the goldens do not depend on this machine's QEMU.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { formatDomainXML, parseDomainXML, type DomainDef } from '../../../src/conf/domain/index.js';
import type { QemuCaps } from '../../../src/drivers/qemu/capabilities.js';
import { buildQemuCommandLine, type CommandLineContext, type QemuCommandLine } from '../../../src/drivers/qemu/commandLine.js';
import { qemuCapsSource, qemuDomainDefaults } from '../../../src/drivers/qemu/domainDefaults.js';
import { interfaceQueues, interfaceUsesTapFd } from '../../../src/drivers/qemu/devices/interface.js';
import { projectRoot } from '../../helpers/system.js';

export const fixtureDir = join(projectRoot, 'test/fixtures/qemu');

export const fixtureCaps: QemuCaps = JSON.parse(readFileSync(join(fixtureDir, 'caps-x86_64-7.2.json'), 'utf8')) as QemuCaps;

export const fixtureDriver = qemuDomainDefaults(qemuCapsSource([fixtureCaps]));

/** NAME.xml of every fixture. */
export function fixtureNames(): string[] {
  return readdirSync(fixtureDir)
    .filter((f) => f.endsWith('.xml') && !f.endsWith('.out.xml'))
    .map((f) => f.slice(0, -4))
    .sort();
}

export function readFixture(name: string, ext = '.xml'): string {
  return readFileSync(join(fixtureDir, name + ext), 'utf8');
}

/** define: parse with the QEMU driver's defaults. */
export function defineFixture(xml: string): DomainDef {
  return parseDomainXML(xml, { driver: fixtureDriver });
}

export function inactiveXml(def: DomainDef): string {
  return formatDomainXML(def, { inactive: true, driver: fixtureDriver });
}

/**
 * The context of a golden start: fixed paths, and tap fds numbered from 3 (the first fd a
 * child gets after stdio) in interface order, one per queue.
 */
export function fixtureContext(def: DomainDef, caps: QemuCaps = fixtureCaps): CommandLineContext {
  const netFds = new Map<string, number[]>();
  let fd = 3;
  (def.devices.interfaces ?? []).forEach((n, i) => {
    if (!interfaceUsesTapFd(n)) return;
    const fds: number[] = [];
    for (let q = 0; q < interfaceQueues(n); q++) fds.push(fd++);
    netFds.set(n.alias ?? `net${i}`, fds);
  });
  const dir = `/var/lib/tsvirt/qemu/domain-1-${def.name}`;
  return {
    caps,
    vmName: def.name,
    qmpSocket: `${dir}/monitor.sock`,
    chardevSocketDir: `/run/tsvirt/qemu/${def.name}`,
    libDir: dir,
    logDir: '/var/log/tsvirt/qemu',
    netFds,
  };
}

/** The argv golden for a fixture (define, then start on a copy). */
export function fixtureCommandLine(name: string): { def: DomainDef; cmd: QemuCommandLine } {
  const def = defineFixture(readFixture(name));
  const live = structuredClone(def);
  const cmd = buildQemuCommandLine(live, fixtureContext(live));
  return { def: live, cmd };
}

/** A shell-quoted argument as libvirt's test files write it. */
function shellQuote(a: string): string {
  return /^[A-Za-z0-9_\-=.,:/+@%]*$/.test(a) && a !== '' ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

/**
 * libvirt's qemuxmlconfdata layout: the binary, then each option with its value on one line,
 * every line but the last ending in ' \'.
 */
export function formatArgs(cmd: QemuCommandLine): string {
  const lines = [cmd.binary];
  const a = cmd.args;
  for (let i = 0; i < a.length; i++) {
    if (a[i]!.startsWith('-') && i + 1 < a.length && !a[i + 1]!.startsWith('-')) {
      lines.push(`${a[i]} ${shellQuote(a[i + 1]!)}`);
      i++;
    } else lines.push(shellQuote(a[i]!));
  }
  return lines.join(' \\\n') + '\n';
}

/** Reads a golden back into an argv (the inverse of formatArgs). */
export function parseArgs(text: string): string[] {
  const out: string[] = [];
  const re = /'((?:[^']|'\\'')*)'|(\S+)/g;
  for (const line of text.replace(/ \\\n/g, '\n').split('\n')) {
    for (const m of line.matchAll(re)) out.push(m[1] !== undefined ? m[1].replace(/'\\''/g, "'") : m[2]!);
  }
  return out;
}
