// The server side of each procedure the Driver interface covers: decode-ready arguments in,
// the driver call, the reply struct out. Connection setup, authentication, events, close
// callbacks and streams are the session's (serverSession.ts); every procedure not listed here
// is answered "this function is not supported by the connection driver: virXxx".
import { ErrorDomain, ErrorNumber, virtError } from '../errors/index.js';
import type { Driver } from '../drivers/driver.js';
import { cstringToChars, domainInfoToWire, nodeInfoToWire, typedParamFromWire, typedParamToWire } from './convert.js';
import * as P from './protocol.js';

type Types = P.ProcedureTypes;
type Handler<N extends keyof Types> = (d: Driver, a: Types[N]['args']) => Promise<Types[N]['ret']>;
export type Handlers = { [N in keyof Types]?: Handler<N> };

const Proc = P.Procedure;
const bool = (b: boolean): number => (b ? 1 : 0);

function checkMax(n: number, max: number, what: string): void {
  // libvirtd: "maxnames > REMOTE_DOMAIN_LIST_MAX"
  if (n > max) throw virtError(ErrorNumber.RPC, ErrorDomain.RPC, what, { value: String(n) });
}

/**
 * A list call's maximum as libvirtd's dispatcher checks it, before any driver: RPC errors
 * "maxids must be non-negative" and "maxnames > REMOTE_NETWORK_LIST_MAX" (checked with libvirtd 9.0).
 */
function checkListMax(n: number, of: 'DOMAIN' | 'NETWORK', arg: 'maxids' | 'maxnames'): number {
  if (n < 0) throw virtError(ErrorNumber.RPC, ErrorDomain.RPC, `${arg} must be non-negative`, { value: String(n) });
  checkMax(n, of === 'DOMAIN' ? P.REMOTE_DOMAIN_LIST_MAX : P.REMOTE_NETWORK_LIST_MAX, `${arg} > REMOTE_${of}_LIST_MAX`);
  return n;
}

export const handlers: Handlers = {
  [Proc.CONNECT_GET_TYPE]: async (d) => ({ type: await d.getType() }),
  [Proc.CONNECT_GET_VERSION]: async (d) => ({ hv_ver: BigInt(await d.getVersion()) }),
  [Proc.CONNECT_GET_LIB_VERSION]: async (d) => ({ lib_ver: BigInt(await d.getLibVersion()) }),
  [Proc.CONNECT_GET_HOSTNAME]: async (d) => ({ hostname: await d.getHostname() }),
  [Proc.CONNECT_GET_URI]: async (d) => ({ uri: await d.getURI() }),
  [Proc.CONNECT_GET_CAPABILITIES]: async (d) => ({ capabilities: await d.getCapabilities() }),
  [Proc.CONNECT_GET_DOMAIN_CAPABILITIES]: async (d, a) => ({
    capabilities: await d.getDomainCapabilities({ emulatorbin: a.emulatorbin, arch: a.arch, machine: a.machine, virttype: a.virttype }, a.flags),
  }),
  [Proc.CONNECT_GET_MAX_VCPUS]: async (d, a) => ({ max_vcpus: await d.getMaxVcpus(a.type) }),
  [Proc.NODE_GET_INFO]: async (d) => nodeInfoToWire(await d.nodeGetInfo()),
  [Proc.NODE_GET_SECURITY_MODEL]: async (d) => {
    const m = await d.nodeGetSecurityModel();
    return { model: cstringToChars(m.model), doi: cstringToChars(m.doi) };
  },
  [Proc.CONNECT_IS_SECURE]: async (d) => ({ secure: bool(await d.isSecure()) }),

  // ---- domains: listing and lookup
  [Proc.CONNECT_LIST_ALL_DOMAINS]: async (d, a) => {
    const doms = await d.listAllDomains(a.flags);
    return { domains: a.need_results ? doms : [], ret: doms.length };
  },
  [Proc.CONNECT_NUM_OF_DOMAINS]: async (d) => ({ num: await d.numOfDomains() }),
  [Proc.CONNECT_LIST_DOMAINS]: async (d, a) => {
    const max = checkListMax(a.maxids, 'DOMAIN', 'maxids');
    return { ids: (await d.listDomains(max)).slice(0, max) };
  },
  [Proc.CONNECT_NUM_OF_DEFINED_DOMAINS]: async (d) => ({ num: await d.numOfDefinedDomains() }),
  [Proc.CONNECT_LIST_DEFINED_DOMAINS]: async (d, a) => {
    const max = checkListMax(a.maxnames, 'DOMAIN', 'maxnames');
    return { names: (await d.listDefinedDomains(max)).slice(0, max) };
  },
  [Proc.DOMAIN_LOOKUP_BY_NAME]: async (d, a) => ({ dom: await d.domainLookupByName(a.name) }),
  [Proc.DOMAIN_LOOKUP_BY_UUID]: async (d, a) => ({ dom: await d.domainLookupByUUID(a.uuid) }),
  [Proc.DOMAIN_LOOKUP_BY_ID]: async (d, a) => ({ dom: await d.domainLookupByID(a.id) }),

  // ---- domains: definition and lifecycle
  [Proc.DOMAIN_DEFINE_XML]: async (d, a) => ({ dom: await d.domainDefineXML(a.xml, 0) }),
  [Proc.DOMAIN_DEFINE_XML_FLAGS]: async (d, a) => ({ dom: await d.domainDefineXML(a.xml, a.flags) }),
  [Proc.DOMAIN_CREATE_XML]: async (d, a) => ({ dom: await d.domainCreateXML(a.xml_desc, a.flags) }),
  [Proc.DOMAIN_UNDEFINE]: async (d, a) => d.domainUndefine(a.dom, 0),
  [Proc.DOMAIN_UNDEFINE_FLAGS]: async (d, a) => d.domainUndefine(a.dom, a.flags),
  [Proc.DOMAIN_CREATE]: async (d, a) => {
    await d.domainCreate(a.dom, 0);
  },
  [Proc.DOMAIN_CREATE_WITH_FLAGS]: async (d, a) => ({ dom: await d.domainCreate(a.dom, a.flags) }),
  [Proc.DOMAIN_DESTROY]: async (d, a) => d.domainDestroy(a.dom, 0),
  [Proc.DOMAIN_DESTROY_FLAGS]: async (d, a) => d.domainDestroy(a.dom, a.flags),
  [Proc.DOMAIN_SHUTDOWN]: async (d, a) => d.domainShutdown(a.dom, 0),
  [Proc.DOMAIN_SHUTDOWN_FLAGS]: async (d, a) => d.domainShutdown(a.dom, a.flags),
  [Proc.DOMAIN_REBOOT]: async (d, a) => d.domainReboot(a.dom, a.flags),
  [Proc.DOMAIN_RESET]: async (d, a) => d.domainReset(a.dom, a.flags),
  [Proc.DOMAIN_SUSPEND]: async (d, a) => d.domainSuspend(a.dom),
  [Proc.DOMAIN_RESUME]: async (d, a) => d.domainResume(a.dom),

  // ---- domains: queries
  [Proc.DOMAIN_GET_XML_DESC]: async (d, a) => ({ xml: await d.domainGetXMLDesc(a.dom, a.flags) }),
  [Proc.DOMAIN_GET_INFO]: async (d, a) => domainInfoToWire(await d.domainGetInfo(a.dom)),
  [Proc.DOMAIN_GET_STATE]: async (d, a) => d.domainGetState(a.dom, a.flags),
  [Proc.DOMAIN_GET_OS_TYPE]: async (d, a) => ({ type: await d.domainGetOSType(a.dom) }),
  [Proc.DOMAIN_GET_MAX_MEMORY]: async (d, a) => ({ memory: BigInt(await d.domainGetMaxMemory(a.dom)) }),
  [Proc.DOMAIN_GET_VCPUS_FLAGS]: async (d, a) => ({ num: await d.domainGetVcpusFlags(a.dom, a.flags) }),
  [Proc.DOMAIN_GET_AUTOSTART]: async (d, a) => ({ autostart: bool(await d.domainGetAutostart(a.dom)) }),
  [Proc.DOMAIN_SET_AUTOSTART]: async (d, a) => d.domainSetAutostart(a.dom, a.autostart !== 0),
  [Proc.DOMAIN_IS_ACTIVE]: async (d, a) => ({ active: bool(await d.domainIsActive(a.dom)) }),
  [Proc.DOMAIN_IS_PERSISTENT]: async (d, a) => ({ persistent: bool(await d.domainIsPersistent(a.dom)) }),
  [Proc.DOMAIN_IS_UPDATED]: async (d, a) => ({ updated: bool(await d.domainIsUpdated(a.dom)) }),
  [Proc.DOMAIN_HAS_MANAGED_SAVE_IMAGE]: async (d, a) => ({ result: bool(await d.domainHasManagedSaveImage(a.dom, a.flags)) }),
  [Proc.DOMAIN_SNAPSHOT_NUM]: async (d, a) => ({ num: await d.domainSnapshotNum(a.dom, a.flags) }),
  [Proc.DOMAIN_GET_SECURITY_LABEL]: async (d, a) => {
    const l = await d.domainGetSecurityLabel(a.dom);
    return { label: cstringToChars(l.label), enforcing: bool(l.enforcing) };
  },
  [Proc.DOMAIN_GET_MESSAGES]: async (d, a) => ({ msgs: await d.domainGetMessages(a.dom, a.flags) }),
  [Proc.DOMAIN_INTERFACE_ADDRESSES]: async (d, a) => ({ ifaces: await d.domainInterfaceAddresses(a.dom, a.source, a.flags) }),

  // ---- domains: devices
  [Proc.DOMAIN_ATTACH_DEVICE_FLAGS]: async (d, a) => d.domainAttachDeviceFlags(a.dom, a.xml, a.flags),
  [Proc.DOMAIN_DETACH_DEVICE_FLAGS]: async (d, a) => d.domainDetachDeviceFlags(a.dom, a.xml, a.flags),
  [Proc.DOMAIN_UPDATE_DEVICE_FLAGS]: async (d, a) => d.domainUpdateDeviceFlags(a.dom, a.xml, a.flags),
  [Proc.DOMAIN_SET_INTERFACE_PARAMETERS]: async (d, a) =>
    d.domainSetInterfaceParameters(a.dom, a.device, a.params.map(typedParamFromWire), a.flags),
  // libvirt's two steps: nparams 0 asks for the count only.
  [Proc.DOMAIN_GET_INTERFACE_PARAMETERS]: async (d, a) => {
    checkMax(a.nparams, P.REMOTE_DOMAIN_INTERFACE_PARAMETERS_MAX, 'nparams too large');
    const params = await d.domainGetInterfaceParameters(a.dom, a.device, a.flags);
    if (a.nparams === 0) return { params: [], nparams: params.length };
    const sent = params.slice(0, a.nparams);
    return { params: sent.map(typedParamToWire), nparams: sent.length };
  },

  // ---- networks
  [Proc.CONNECT_LIST_ALL_NETWORKS]: async (d, a) => {
    const nets = await d.listAllNetworks(a.flags);
    return { nets: a.need_results ? nets : [], ret: nets.length };
  },
  [Proc.CONNECT_NUM_OF_NETWORKS]: async (d) => ({ num: await d.numOfNetworks() }),
  [Proc.CONNECT_LIST_NETWORKS]: async (d, a) => {
    const max = checkListMax(a.maxnames, 'NETWORK', 'maxnames');
    return { names: (await d.listNetworks(max)).slice(0, max) };
  },
  [Proc.CONNECT_NUM_OF_DEFINED_NETWORKS]: async (d) => ({ num: await d.numOfDefinedNetworks() }),
  [Proc.CONNECT_LIST_DEFINED_NETWORKS]: async (d, a) => {
    const max = checkListMax(a.maxnames, 'NETWORK', 'maxnames');
    return { names: (await d.listDefinedNetworks(max)).slice(0, max) };
  },
  [Proc.NETWORK_LOOKUP_BY_NAME]: async (d, a) => ({ net: await d.networkLookupByName(a.name) }),
  [Proc.NETWORK_LOOKUP_BY_UUID]: async (d, a) => ({ net: await d.networkLookupByUUID(a.uuid) }),
  [Proc.NETWORK_DEFINE_XML]: async (d, a) => ({ net: await d.networkDefineXML(a.xml, 0) }),
  [Proc.NETWORK_DEFINE_XML_FLAGS]: async (d, a) => ({ net: await d.networkDefineXML(a.xml, a.flags) }),
  [Proc.NETWORK_CREATE_XML]: async (d, a) => ({ net: await d.networkCreateXML(a.xml, 0) }),
  [Proc.NETWORK_CREATE_XML_FLAGS]: async (d, a) => ({ net: await d.networkCreateXML(a.xml, a.flags) }),
  [Proc.NETWORK_UNDEFINE]: async (d, a) => d.networkUndefine(a.net),
  [Proc.NETWORK_CREATE]: async (d, a) => d.networkCreate(a.net),
  [Proc.NETWORK_DESTROY]: async (d, a) => d.networkDestroy(a.net),
  [Proc.NETWORK_GET_XML_DESC]: async (d, a) => ({ xml: await d.networkGetXMLDesc(a.net, a.flags) }),
  [Proc.NETWORK_GET_BRIDGE_NAME]: async (d, a) => ({ name: await d.networkGetBridgeName(a.net) }),
  [Proc.NETWORK_GET_AUTOSTART]: async (d, a) => ({ autostart: bool(await d.networkGetAutostart(a.net)) }),
  [Proc.NETWORK_SET_AUTOSTART]: async (d, a) => d.networkSetAutostart(a.net, a.autostart !== 0),
  [Proc.NETWORK_IS_ACTIVE]: async (d, a) => ({ active: bool(await d.networkIsActive(a.net)) }),
  [Proc.NETWORK_IS_PERSISTENT]: async (d, a) => ({ persistent: bool(await d.networkIsPersistent(a.net)) }),
  [Proc.NETWORK_GET_DHCP_LEASES]: async (d, a) => {
    const leases = await d.networkGetDHCPLeases(a.net, a.mac, a.flags);
    return { leases: a.need_results ? leases : [], ret: leases.length };
  },

  // ---- storage
  [Proc.CONNECT_LIST_ALL_STORAGE_POOLS]: async (d, a) => {
    const pools = await d.listAllStoragePools(a.flags);
    return { pools: a.need_results ? pools : [], ret: pools.length };
  },
};
