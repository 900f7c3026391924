// Shared by the domain XML tests: fixture listing, the test driver's parse, and real virsh.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../helpers/system.js';
import { formatDomainXML, parseDomainXML, type DomainDef } from '../../../src/conf/domain/index.js';
import { generateTestIfnames, testDomainDefaults } from '../../../src/drivers/test/domainDefaults.js';

export const fixtureDir = join(projectRoot, 'test/fixtures/domain');
export const badDir = join(fixtureDir, 'bad');

/** Fixture inputs (NAME.xml, not NAME.out.xml). */
export function fixtures(): string[] {
  return readdirSync(fixtureDir)
    .filter((f) => f.endsWith('.xml') && !f.endsWith('.out.xml'))
    .sort();
}

export function readFixture(name: string): string {
  return readFileSync(join(fixtureDir, name), 'utf8');
}

/** What the test driver's define does: parse as inactive XML with its defaults, name the NICs. */
export function defineLikeTestDriver(xml: string, validate = false): DomainDef {
  const def = parseDomainXML(xml, { driver: testDomainDefaults, validate });
  generateTestIfnames(def);
  return def;
}

export function dumpxml(def: DomainDef, secure = false): string {
  return formatDomainXML(def, { driver: testDomainDefaults, secure });
}

/** Real libvirt: define FILE on test:///default and dump it (stdout), or the error (stderr). */
export function virshDefineDump(file: string): { ok: boolean; out: string } {
  const name = /<name>([^<]*)<\/name>/.exec(readFileSync(file, 'utf8'))?.[1] ?? '';
  const r = spawnSync('virsh', ['-q', '-c', 'test:///default', `define ${file}; dumpxml ${name}`], { encoding: 'utf8' });
  const out = r.stdout.replace(/^Domain .* defined from .*\n/, '');
  return { ok: r.status === 0, out: r.status === 0 ? out : r.stderr };
}

/** python-libvirt for /usr/bin/python3 (the pyenv python on PATH lacks it). */
export function hasPythonLibvirt(): boolean {
  return spawnSync('/usr/bin/python3', ['-c', 'import libvirt'], { stdio: 'ignore' }).status === 0;
}
