// The typed domain definition: what parseDomainXML returns and formatDomainXML writes.
import type { XmlElement } from '../xml/xmlTree.js';
import type { ClockDef } from './clock.js';
import type { CpuDef } from './cpu.js';
import type { DomainDevices } from './domainDevices.js';
import type { FeaturesDef } from './features.js';
import type { LifecycleDef } from './lifecycle.js';
import type { MemoryTuneDef } from './memory.js';
import type { OsDef } from './os.js';
import type { SeclabelDef } from './seclabel.js';
import type { CputuneDef, IothreadsDef } from './tunables.js';
import type { NumatuneDef, VcpuDef } from './vcpu.js';

export interface DomainDef extends LifecycleDef, MemoryTuneDef {
  /** <domain type>: the hypervisor (kvm, qemu, test, …). */
  type: string;
  /** <domain id>: only from live XML; formatDomainXML takes the live id from its options. */
  id?: number;
  name: string;
  /** Canonical lower-case form; generated when the XML has none. */
  uuid: string;
  /** <genid>: VM generation id; generated when the element is empty. */
  genid?: string;
  title?: string;
  description?: string;
  /** The <metadata> element as libvirt keeps it (namespaced children only, one per namespace). */
  metadata?: XmlElement;
  /** <maxMemory slots='N'>: memory hotplug ceiling, KiB. */
  maxMemory?: { size: number; slots: number };
  /** <memory>: KiB. */
  memory: number;
  /** <memory dumpCore='on|off'>. */
  memoryDumpCore?: boolean;
  /** <currentMemory>: KiB. */
  currentMemory: number;
  vcpu: VcpuDef;
  /** <iothreads>, <iothreadids>, <defaultiothread>. */
  iothreads?: IothreadsDef;
  cputune?: CputuneDef;
  numatune?: NumatuneDef;
  /** <resource><partition>…</partition></resource>. */
  resource?: { partition?: string; fibrechannelAppid?: string };
  bootloader?: string;
  bootloaderArgs?: string;
  os: OsDef;
  features: FeaturesDef;
  cpu?: CpuDef;
  clock: ClockDef;
  devices: DomainDevices;
  seclabels?: SeclabelDef[];
  /** Driver namespace data (e.g. <test:…> or <qemu:commandline>), owned by the driver hook. */
  namespaceData?: unknown;
}
