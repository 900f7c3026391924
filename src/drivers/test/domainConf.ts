// The test driver's view of a domain definition (src/conf/domain's DomainDef): parsing with the
// test driver's defaults, formatting, and the few fields the state machine reads or changes.
import { ErrorDomain, ErrorNumber, virtError } from '../../errors/index.js';
import { formatDomainXML, parseDomainXML, type DomainDef } from '../../conf/domain/index.js';
import type { NetDevBandwidthRate } from '../../conf/netdevBandwidth.js';
import { generateTestIfnames, testDomainDefaults } from './domainDefaults.js';

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

/** One direction of an interface's bandwidth, in the units of virDomainSetInterfaceParameters. */
export interface NetBandwidthRate {
  average?: number;
  peak?: number;
  burst?: number;
  floor?: number;
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

/** Names interfaces without a target dev testnet0, testnet1, … as libvirt's test driver. */
export function assignIfnames(def: DomainDef): void {
  try {
    generateTestIfnames(def);
  } catch (e) {
    throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.TEST, e instanceof Error ? e.message : String(e));
  }
}

const MAC = /^([0-9a-f]{1,2}[:-]){5}[0-9a-f]{1,2}$/i;

function normMac(m: string): string {
  return m
    .split(/[:-]/)
    .map((o) => o.padStart(2, '0').toLowerCase())
    .join(':');
}

/** The interface a device string names (MAC or host interface name), as virDomainNetFind. */
function findNet(def: DomainDef, device: string): InterfaceDef {
  const nets = interfaces(def);
  const found = MAC.test(device)
    ? nets.find((n) => normMac(n.mac.address) === normMac(device))
    : nets.find((n) => n.target?.dev === device);
  if (!found) throw virtError(ErrorNumber.INVALID_ARG, ErrorDomain.DOMAIN, `'${device}' is not a known interface`, { value: device });
  return found;
}

function toRate(r: NetDevBandwidthRate | undefined): NetBandwidthRate | undefined {
  if (!r) return undefined;
  const out: NetBandwidthRate = {};
  for (const k of ['average', 'peak', 'burst', 'floor'] as const) if (r[k] !== undefined) out[k] = Number(r[k]);
  return out;
}

function fromRate(r: NetBandwidthRate): NetDevBandwidthRate {
  const out: NetDevBandwidthRate = {};
  for (const k of ['average', 'peak', 'burst', 'floor'] as const) if (r[k]) out[k] = BigInt(r[k]!);
  return out;
}

export function getNetBandwidth(def: DomainDef, device: string): { inbound?: NetBandwidthRate; outbound?: NetBandwidthRate } {
  const bw = findNet(def, device).bandwidth;
  return { inbound: toRate(bw?.inbound), outbound: toRate(bw?.outbound) };
}

/** Replaces (rate), clears (null) or keeps (undefined) each direction of an interface's bandwidth. */
export function setNetBandwidth(
  def: DomainDef,
  device: string,
  bw: { inbound?: NetBandwidthRate | null; outbound?: NetBandwidthRate | null },
): void {
  const net = findNet(def, device);
  const next = { ...(net.bandwidth ?? {}) };
  for (const dir of ['inbound', 'outbound'] as const) {
    const want = bw[dir];
    if (want === undefined) continue;
    if (want === null) delete next[dir];
    else next[dir] = fromRate(want);
  }
  net.bandwidth = next.inbound || next.outbound ? next : undefined;
}
