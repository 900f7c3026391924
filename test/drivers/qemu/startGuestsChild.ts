// A child process for the kill -9 test (reattach.test.ts): opens qemu:///embed on the root it is
// given, starts the named test-guest domains, prints "STARTED <name>=<pid> …" and waits to be
// killed. Without TSVIRT_CHILD_ROOT (e.g. picked up by the test runner) it does nothing.
import { open } from '../../../src/api/index.js';
import { guestDomainXML } from './guestDomain.js';

const root = process.env.TSVIRT_CHILD_ROOT;
if (root) {
  const names = (process.env.TSVIRT_CHILD_NAMES ?? '').split(',').filter(Boolean);
  const conn = await open(`qemu:///embed?root=${root}`);
  const doms = await Promise.all(names.map((name) => conn.domainDefineXML(guestDomainXML({ name }))));
  await Promise.all(doms.map((d) => d.create()));
  process.stdout.write(`STARTED ${doms.map((d) => `${d.getName()}=${d.getID()}`).join(' ')}\n`);
  // Held open until killed: the driver keeps its lock and monitors.
  setInterval(() => undefined, 1 << 30);
}
