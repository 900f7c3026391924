// vhost-net for a virtio NIC on a tap (libvirt's qemuInterfaceOpenVhostNet): the packet path
// moves from QEMU into the host kernel when /dev/vhost-net (or <backend vhost='…'/>) opens. One
// descriptor per queue, passed to QEMU as vhostfd=/vhostfds=. Used only for KVM guests (a TCG
// guest never gets it), never with <driver name='qemu'/>; <driver name='vhost'/> makes an
// unusable vhost-net an error, while the default quietly goes without.
import { openSync } from 'node:fs';
import type { DomainDef } from '../../conf/domain/index.js';
import type { InterfaceDef } from '../../conf/domain/interface.js';
import { ErrorDomain, ErrorNumber, virtError } from '../../errors/index.js';
import { closeFds } from '../../host/tap.js';
import { isVirtioModel } from '../../conf/domain/interface.js';
import { interfaceQueues } from './devices/interface.js';

export const VHOST_NET_DEVICE = '/dev/vhost-net';

function unsupported(detail: string): Error {
  return virtError(ErrorNumber.CONFIG_UNSUPPORTED, ErrorDomain.QEMU, detail, { element: 'interface/driver', attribute: 'name', value: 'vhost' });
}

/**
 * Opens the vhost-net descriptors of one tap-backed interface: none when vhost does not apply
 * or cannot be opened (and was not demanded), else one per queue (fewer when only some could
 * be opened, as libvirt). The caller closes them once QEMU has its copies.
 */
export function openVhostNet(def: Pick<DomainDef, 'type'>, net: InterfaceDef, warn: (err: unknown) => void = () => undefined): number[] {
  const demanded = net.driver?.name === 'vhost';
  if (def.type !== 'kvm' || net.driver?.name === 'qemu') return [];
  if (!isVirtioModel(net.model)) {
    if (demanded) throw unsupported('vhost-net is only supported for virtio network interfaces');
    return [];
  }
  const path = net.backend?.vhost ?? VHOST_NET_DEVICE;
  const want = interfaceQueues(net);
  const fds: number[] = [];
  for (let i = 0; i < want; i++) {
    try {
      fds.push(openSync(path, 'r+'));
    } catch (err) {
      if (demanded) {
        closeFds(fds);
        throw unsupported('vhost-net was requested for an interface, but is unavailable');
      }
      warn(new Error(`Unable to open vhost-net. Opened so far ${i}, requested ${want}: ${(err as Error).message}`));
      break;
    }
  }
  return fds;
}
