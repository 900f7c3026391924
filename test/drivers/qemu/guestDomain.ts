// Domain XML for the test guest (build/guest), booted under TCG, for the QEMU driver's tests.
import { guestCmdline, guestInitrd, guestKernel } from '../../helpers/guest.js';

export interface GuestDomainOptions {
  name: string;
  uuid?: string;
  memoryMiB?: number;
  /** Raw <interface>… elements. */
  interfaces?: string[];
  /** Other raw device elements. */
  devices?: string[];
  onPoweroff?: string;
  onReboot?: string;
  onCrash?: string;
  emulator?: string;
  type?: 'qemu' | 'kvm';
}

export function guestDomainXML(o: GuestDomainOptions): string {
  return `<domain type='${o.type ?? 'qemu'}'>
  <name>${o.name}</name>${o.uuid ? `\n  <uuid>${o.uuid}</uuid>` : ''}
  <memory unit='MiB'>${o.memoryMiB ?? 128}</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>${guestKernel}</kernel>
    <initrd>${guestInitrd}</initrd>
    <cmdline>${guestCmdline}</cmdline>
  </os>
  <features><acpi/></features>${o.onPoweroff ? `\n  <on_poweroff>${o.onPoweroff}</on_poweroff>` : ''}${o.onReboot ? `\n  <on_reboot>${o.onReboot}</on_reboot>` : ''}${o.onCrash ? `\n  <on_crash>${o.onCrash}</on_crash>` : ''}
  <devices>${o.emulator ? `\n    <emulator>${o.emulator}</emulator>` : ''}
    <serial type='pty'/>
    <console type='pty'/>
${[...(o.interfaces ?? []), ...(o.devices ?? [])].map((d) => `    ${d}`).join('\n')}
  </devices>
</domain>
`;
}
