// Real virsh as the client of a comparison: the same commands against libvirtd and against
// tsvirt, outputs side by side.
import { run, type CommandResult } from './command.js';

/** One virsh command and what it printed; `cmd` (its arguments) names the step in messages. */
export interface VirshRun extends CommandResult {
  cmd: string;
}

/** `virsh [-q] -c URI ARGS…` in the C locale; `quiet: false` keeps the table headers (list, net-list). */
export async function virsh(uri: string, args: string[], quiet = true): Promise<VirshRun> {
  return { cmd: args.join(' '), ...(await run('virsh', [...(quiet ? ['-q'] : []), '-c', uri, ...args])) };
}

/** What `virsh event --all --loop --timeout SECONDS` prints: the events of that window. */
export async function virshEvents(uri: string, seconds: number): Promise<string> {
  return (await run('virsh', ['-c', uri, 'event', '--all', '--loop', '--timeout', String(seconds)])).stdout;
}

/** A test-driver domain with one NIC on the network 'default', for define/start/undefine sequences. */
export const testDomainXml = (name: string, uuid: string): string => `<domain type='test'>
  <name>${name}</name>
  <uuid>${uuid}</uuid>
  <memory unit='KiB'>131072</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices>
    <interface type='network'><mac address='52:54:00:12:34:56'/><source network='default'/></interface>
  </devices>
</domain>
`;
