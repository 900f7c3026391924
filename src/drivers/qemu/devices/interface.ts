// <interface> on QEMU's command line: the host side as -netdev (a tap/macvtap fd the runtime
// opened, user-mode networking, sockets) and the guest NIC as -device (virtio-net-pci, e1000,
// rtl8139, …), or a VF passed through with vfio-pci for type='hostdev'.
import type { InterfaceDef } from '../../../conf/domain/interface.js';
import { isVirtioModel } from '../../../conf/domain/interface.js';
import { pciAddressString } from '../../../conf/domain/deviceAddress.js';
import { ErrorDomain, ErrorNumber, virtError } from '../../../errors/index.js';
import type { DeviceBuildEnv } from '../commandLineContext.js';
import { addressProps, aliasOf, compact, deviceArgs, jsonArg, type QemuProps } from './qemuProps.js';

function unsupported(detail: string, value?: string, domain: number = ErrorDomain.QEMU): Error {
  return virtError(ErrorNumber.CONFIG_UNSUPPORTED, domain, detail, { element: 'interface', value });
}

/** The connection type that counts: a type='network' interface's actual connection once allocated. */
export function interfaceActualType(net: InterfaceDef): InterfaceDef['type'] {
  if (net.type === 'network' && net.actual) return net.actual.type === 'network' ? 'bridge' : net.actual.type;
  return net.type;
}

/** Connection types whose host side is a tap or macvtap fd the runtime opens. */
export function interfaceUsesTapFd(net: InterfaceDef): boolean {
  const t = interfaceActualType(net);
  return t === 'ethernet' || t === 'bridge' || t === 'network' || t === 'direct';
}

/**
 * Queues of the NIC: <driver queues> for virtio models, 1 otherwise (libvirt ignores queues on
 * other models). The runtime opens this many tap fds.
 */
export function interfaceQueues(net: InterfaceDef): number {
  return isVirtioModel(net.model) && net.driver?.queues && net.driver.queues > 1 ? net.driver.queues : 1;
}

/** qemuDomainNetSupportsMTU: whether QEMU's side of this connection type has an MTU to set. */
export function interfaceSupportsMtu(net: InterfaceDef): boolean {
  return ['network', 'bridge', 'ethernet', 'vhostuser'].includes(net.type) || (net.type === 'user' && net.backend?.type === 'passt');
}

/** Define-time checks of an interface for the QEMU driver (qemuValidateDomainDeviceDefNetwork). */
export function validateInterfaceForDefine(net: InterfaceDef): void {
  if (net.mtu && !interfaceSupportsMtu(net)) throw unsupported(`setting MTU on interface type ${net.type} is not supported yet`, net.type);
}

/**
 * Checks an interface can be started as configured (qemuDomainValidateActualNetDef), after the
 * runtime resolved its actual connection and before any host change: a <vlan> on a plain
 * bridge is refused (netdev case 56), and so on. Error CONFIG_UNSUPPORTED, domain QEMU.
 */
export function validateInterfaceForStart(net: InterfaceDef): void {
  const mac = net.mac.address;
  const t = interfaceActualType(net);
  const vlan = net.actual?.vlan ?? net.vlan;
  const vport = net.actual?.virtualport ?? net.virtualport;
  const directMode = net.actual?.source?.mode ?? net.source?.mode;
  // virDomainActualNetDefValidate (error domain DOMAIN): vlan tags need a switch that does them
  if (vlan && !(t === 'hostdev' || (t === 'direct' && directMode === 'passthrough') || (t === 'bridge' && vport?.type === 'openvswitch'))) {
    throw unsupported(`interface ${mac} - vlan tag not supported for this connection type`, mac, ErrorDomain.DOMAIN);
  }
  const bw = net.actual?.bandwidth ?? net.bandwidth;
  if (t === 'hostdev' && bw && (bw.inbound || bw.outbound)) {
    throw unsupported(`interface ${mac} - bandwidth settings are not supported for hostdev interfaces`, mac, ErrorDomain.DOMAIN);
  }
  // qemuDomainValidateActualNetDef (error domain QEMU)
  if (isVirtioModel(net.model) && net.driver?.queues && net.driver.queues > 1 && !['network', 'bridge', 'direct', 'ethernet', 'vhostuser', 'vdpa'].includes(t)) {
    throw unsupported(`interface ${mac} - multiqueue is not supported for network interfaces of type ${t}`, mac);
  }
  if (net.filterref && !['network', 'bridge', 'ethernet'].includes(t)) {
    throw unsupported(`interface ${mac} - filterref is not supported for network interfaces of type ${t}`, mac);
  }
  if (t === 'hostdev') {
    const src = net.hostdev?.source;
    if (!src || src.type !== 'pci') throw unsupported('only PCI host devices can be used for interface type hostdev', mac);
  }
  if (!['ethernet', 'bridge', 'network', 'direct', 'user', 'hostdev', 'server', 'client', 'mcast', 'udp'].includes(t)) {
    throw unsupported(`interface type '${t}' is not supported by tsvirt's QEMU driver`, t);
  }
}

function hostnetId(alias: string): string {
  return `host${alias}`;
}

/** The -netdev value of an interface, or undefined for hostdev (no netdev). */
export function interfaceNetdevProps(net: InterfaceDef, env: DeviceBuildEnv): QemuProps | undefined {
  const alias = aliasOf(net, 'interface');
  const t = interfaceActualType(net);
  const id = hostnetId(alias);
  switch (t) {
    case 'ethernet':
    case 'bridge':
    case 'network':
    case 'direct': {
      const fds = env.ctx.netFds.get(alias);
      const queues = interfaceQueues(net);
      if (!fds || fds.length !== queues) {
        throw virtError(
          ErrorNumber.INTERNAL_ERROR,
          ErrorDomain.QEMU,
          `interface ${alias} needs ${queues} tap file descriptor${queues > 1 ? 's' : ''}, got ${fds?.length ?? 0}`,
        );
      }
      const p: QemuProps = { type: 'tap' };
      if (queues > 1) p.fds = fds.join(':');
      else p.fd = String(fds[0]);
      const vhost = env.ctx.vhostFds?.get(alias);
      if (vhost && vhost.length) {
        p.vhost = true;
        if (vhost.length > 1) p.vhostfds = vhost.join(':');
        else p.vhostfd = String(vhost[0]);
      }
      if (net.tune?.sndbuf !== undefined) p.sndbuf = Number(net.tune.sndbuf);
      p.id = id;
      return p;
    }
    case 'user':
      return { type: 'user', id };
    case 'server':
    case 'client':
    case 'mcast': {
      const s = net.source ?? {};
      const key = t === 'server' ? 'listen' : t === 'client' ? 'connect' : 'mcast';
      return { type: 'socket', [key]: `${s.address ?? ''}:${s.port ?? 0}`, id };
    }
    case 'udp': {
      const s = net.source ?? {};
      return { type: 'socket', udp: `${s.address ?? ''}:${s.port ?? 0}`, localaddr: `${s.local?.address ?? ''}:${s.local?.port ?? 0}`, id };
    }
    case 'hostdev':
      return undefined;
    default:
      throw unsupported(`interface type '${t}' is not supported by tsvirt's QEMU driver`, t);
  }
}

const NIC_DRIVERS: Record<string, string> = {
  virtio: 'virtio-net-pci',
  'virtio-transitional': 'virtio-net-pci-transitional',
  'virtio-non-transitional': 'virtio-net-pci-non-transitional',
  'usb-net': 'usb-net',
};

function romProps(net: InterfaceDef): QemuProps {
  const r = net.rom;
  if (!r) return {};
  if (r.enabled === false) return { romfile: '' };
  const out: QemuProps = {};
  if (r.bar !== undefined) out.rombar = r.bar ? 1 : 0;
  if (r.file !== undefined) out.romfile = r.file;
  return out;
}

/** The -device value of the guest NIC (qemuBuildNicDevProps), or vfio-pci for type='hostdev'. */
export function interfaceDeviceProps(net: InterfaceDef, env: DeviceBuildEnv): QemuProps {
  const alias = aliasOf(net, 'interface');
  const bootindex = env.bootIndex.get(net);
  if (interfaceActualType(net) === 'hostdev') {
    const src = (net.actual?.hostdev ?? net.hostdev)?.source;
    if (!src || src.type !== 'pci') throw unsupported('only PCI host devices can be used for interface type hostdev');
    return compact({
      driver: 'vfio-pci',
      host: pciAddressString(src.address),
      id: alias,
      bootindex,
      ...addressProps(env.def, net),
      ...romProps(net),
    });
  }
  const model = net.model ?? 'rtl8139';
  const p: QemuProps = { driver: NIC_DRIVERS[model] ?? model };
  if (isVirtioModel(model)) {
    const d = net.driver ?? {};
    if (d.txmode) p.tx = d.txmode === 'iothread' ? 'bh' : 'timer';
    if (d.ioeventfd !== undefined) p.ioeventfd = d.ioeventfd;
    if (d.eventIdx !== undefined) p.event_idx = d.eventIdx;
    for (const [k, q] of [
      ['csum', 'csum'],
      ['gso', 'gso'],
      ['tso4', 'host_tso4'],
      ['tso6', 'host_tso6'],
      ['ecn', 'host_ecn'],
      ['ufo', 'host_ufo'],
      ['mrgRxbuf', 'mrg_rxbuf'],
    ] as const) {
      const v = d.host?.[k];
      if (v !== undefined) p[q] = v;
    }
    for (const [k, q] of [
      ['csum', 'guest_csum'],
      ['tso4', 'guest_tso4'],
      ['tso6', 'guest_tso6'],
      ['ecn', 'guest_ecn'],
      ['ufo', 'guest_ufo'],
    ] as const) {
      const v = d.guest?.[k];
      if (v !== undefined) p[q] = v;
    }
    const queues = interfaceQueues(net);
    if (queues > 1) {
      p.mq = true;
      // one vector per queue each way, plus config and control (libvirt: 2 * queues + 2)
      p.vectors = 2 * queues + 2;
    }
    if (d.rxQueueSize) p.rx_queue_size = d.rxQueueSize;
    if (d.txQueueSize) p.tx_queue_size = d.txQueueSize;
    if (d.rss !== undefined) p.rss = d.rss;
    if (d.rssHashReport !== undefined) p.hash = d.rssHashReport;
    if (net.mtu) p.host_mtu = net.mtu;
    if (net.teaming?.type === 'persistent') p.failover = true;
  }
  p.netdev = hostnetId(alias);
  p.id = alias;
  p.mac = net.mac.address;
  if (bootindex !== undefined) p.bootindex = bootindex;
  Object.assign(p, addressProps(env.def, net), romProps(net));
  return p;
}

/** -netdev and -device of one interface, in libvirt's order. */
export function interfaceCommandLine(net: InterfaceDef, env: DeviceBuildEnv): string[] {
  validateInterfaceForStart(net);
  const netdev = interfaceNetdevProps(net, env);
  const out: string[] = [];
  if (netdev) out.push('-netdev', jsonArg(netdev));
  out.push(...deviceArgs(interfaceDeviceProps(net, env)));
  return out;
}
