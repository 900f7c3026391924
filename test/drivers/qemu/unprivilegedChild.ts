// The unprivileged side of the managed='no' seed test (interfaces.test.ts), run as the test user
// on qemu:///session: boots the test guest on the pre-made tap it was told about, gives the
// guest an address and pings the host through the tap, tries domiftune (which must be refused),
// prints "STARTED {json}", waits for "stop" on stdin, destroys, prints "STOPPED". Without
// TSVIRT_CHILD_TAP (e.g. picked up by the test runner) it does nothing.
import { createInterface } from 'node:readline';
import { open } from '../../../src/api/index.js';
import { VirtError } from '../../../src/errors/index.js';
import { GuestConsole } from '../../helpers/guest.js';
import { guestDomainXML } from './guestDomain.js';

const tap = process.env.TSVIRT_CHILD_TAP;
if (tap) {
  const mac = process.env.TSVIRT_CHILD_MAC ?? '52:54:00:5e:ed:01';
  const conn = await open(process.env.TSVIRT_CHILD_URI ?? 'qemu:///session');
  const report: Record<string, unknown> = { uri: await conn.getURI() };
  try {
    const dom = await conn.domainDefineXML(
      guestDomainXML({
        name: 'seed',
        interfaces: [`<interface type='ethernet'><mac address='${mac}'/><target dev='${tap}' managed='no'/><model type='virtio'/></interface>`],
      }),
    );
    // A managed tap cannot be made without privileges: refused before anything happens.
    const managed = await conn.domainDefineXML(
      guestDomainXML({ name: 'seed-managed', interfaces: ["<interface type='ethernet'><model type='virtio'/></interface>"] }),
    );
    try {
      await managed.create();
      report.managedStart = 'started';
    } catch (err) {
      report.managedStart = err instanceof VirtError ? { code: err.code, message: err.message } : String(err);
    }
    // Nor can a limit be set on the user's own tap (spec case 36): refused, nothing started.
    const limited = await conn.domainDefineXML(
      guestDomainXML({
        name: 'seed-bw',
        interfaces: [
          `<interface type='ethernet'><mac address='${mac}'/><target dev='${tap}' managed='no'/><model type='virtio'/><bandwidth><inbound average='100'/></bandwidth></interface>`,
        ],
      }),
    );
    try {
      await limited.create();
      report.bandwidthStart = 'started';
    } catch (err) {
      report.bandwidthStart = err instanceof VirtError ? { code: err.code, message: err.message, active: await limited.isActive() } : String(err);
    }
    await dom.createWithFlags(1);
    const guest = new GuestConsole(await dom.openConsole());
    await dom.resume();
    const nics = await guest.waitReady(120_000);
    report.guestNics = Object.fromEntries(nics);
    await guest.waitPrompt();
    const hostIp = process.env.TSVIRT_CHILD_HOST_IP;
    if (hostIp) {
      const guestIp = hostIp.replace(/\.\d+$/, '.2');
      await guest.run(`ip addr add ${guestIp}/24 dev eth0`);
      report.ping = (await guest.exec(`ping -c 1 -W 5 ${hostIp}`)).output;
    }
    report.liveTarget = /<target dev='([^']+)' managed='no'\/>/.exec(await dom.getXMLDesc())?.[1];
    try {
      await dom.setInterfaceParameters(mac, [{ field: 'inbound.average', type: 2, value: 1000 }], 1);
      report.iftune = 'accepted';
    } catch (err) {
      report.iftune = err instanceof VirtError ? { code: err.code, message: err.message } : String(err);
    }
    report.iftuneGet = await dom.getInterfaceParameters(mac, 0);
    process.stdout.write(`STARTED ${JSON.stringify(report)}\n`);
    const rl = createInterface({ input: process.stdin });
    for await (const line of rl) if (line.trim() === 'stop') break;
    rl.close();
    process.stdin.destroy();
    guest.close();
    await dom.destroy();
    await dom.undefine();
    await managed.undefine();
    await limited.undefine();
    process.stdout.write('STOPPED\n');
  } catch (err) {
    process.stdout.write(`FAILED ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  } finally {
    await conn.close();
  }
}
