// The test driver's view of a domain definition (src/conf/domain's DomainDef): parsing with the
// test driver's defaults, formatting, and the few fields the state machine reads or changes.
import { formatDomainXML, parseDomainXML, type DomainDef } from '../../conf/domain/index.js';
import { testDomainDefaults } from './domainDefaults.js';

export type { DomainDef };

export interface DomainDefSummary {
  name: string;
  uuid: string;
  /** KiB */
  memory: number;
  /** KiB */
  currentMemory: number;
  vcpus: number;
  maxVcpus: number;
  onPoweroff: string;
  onReboot: string;
}

export interface DomainNetView {
  type: string;
  ifname: string | undefined;
  mac: string | undefined;
  network: string | undefined;
  bridge: string | undefined;
}

type InterfaceDef = NonNullable<DomainDef['devices']['interfaces']>[number];

/** Parses domain XML as the test driver does (inactive definition, the driver's defaults). */
export function parseDomainDef(xml: string, opts: { validate?: boolean } = {}): DomainDef {
  return parseDomainXML(xml, { validate: opts.validate === true, driver: testDomainDefaults });
}

export function copyDomainDef(def: DomainDef): DomainDef {
  return structuredClone(def);
}

/** Domain XML as getXMLDesc returns it; `id` is written on running domains. */
export function formatDomainDef(def: DomainDef, opts: { inactive?: boolean; secure?: boolean; id?: number } = {}): string {
  return formatDomainXML(def, {
    inactive: opts.inactive,
    secure: opts.secure,
    id: opts.id !== undefined && opts.id > 0 ? opts.id : undefined,
    driver: testDomainDefaults,
  });
}

export function summarizeDomainDef(def: DomainDef): DomainDefSummary {
  return {
    name: def.name,
    uuid: def.uuid,
    memory: def.memory,
    currentMemory: def.currentMemory,
    vcpus: def.vcpu.current ?? def.vcpu.count,
    maxVcpus: def.vcpu.count,
    onPoweroff: def.onPoweroff,
    onReboot: def.onReboot,
  };
}

function interfaces(def: DomainDef): InterfaceDef[] {
  return def.devices.interfaces ?? [];
}

export function domainNets(def: DomainDef): DomainNetView[] {
  return interfaces(def).map((n) => ({
    type: n.type,
    ifname: n.target?.dev,
    mac: n.mac.address,
    network: n.source?.network,
    bridge: n.source?.bridge,
  }));
}

