// SR-IOV VF admin MAC and VLAN, set and read through the PF over rtnetlink (spec §1.3–1.7).
// Each setting is its own RTM_SETLINK on the PF (addressed by name, ifindex −1), MAC first and
// then VLAN, never both in one message. The VLAN rule that SmartNIC DPUs need: when no VLAN was
// requested the VLAN is still cleared (vlan 0) but EPERM is success, because a DPU host whose
// eswitch is not exposed accepts the VF MAC and refuses any VLAN; an explicit VLAN, 0 included,
// treats EPERM as fatal. A transport or reply-parsing failure is a thrown error, never an errno,
// so it cannot pass for that EPERM.
import { Errno, ErrorDomain, ErrorNumber, VirtError, systemError, virtError } from '../errors/index.js';
import { formatLinkMessage, parseLinkMessage } from './ifla.js';
import { formatMac, isZeroMac, parseMac } from './macAddress.js';
import { RTM_GETLINK, RTM_NEWLINK, RTM_SETLINK, type RtNetlink, ackResult, malformedReply } from './netlink.js';


/** libvirt waits at most this long for the reply to a VF request. */
export const VF_REPLY_TIMEOUT_MS = 2000;

/** A VF operation's outcome: 0 or the negative errno, and the error to report (null: silent). */
export interface VfResult {
  rc: number;
  error: VirtError | null;
}

/** The RTM_SETLINK payload (ifinfomsg + attributes) setting VF `vf`'s admin MAC on `pf`. */
export function formatVfMacRequest(pf: string, vf: number, mac: Uint8Array): Uint8Array[] {
  return formatLinkMessage({ link: { family: 0, index: -1 }, attrs: { ifname: pf, vfinfoList: [{ mac: { vf, mac } }] } });
}

/** The RTM_SETLINK payload setting VF `vf`'s VLAN on `pf` (qos always 0). */
export function formatVfVlanRequest(pf: string, vf: number, vlan: number): Uint8Array[] {
  return formatLinkMessage({ link: { family: 0, index: -1 }, attrs: { ifname: pf, vfinfoList: [{ vlan: { vf, vlan, qos: 0 } }] } });
}

async function sendVfRequest(nl: RtNetlink, payload: Uint8Array[], op: string, pf: string): Promise<number> {
  const opts = { op, dev: pf, timeoutMs: VF_REPLY_TIMEOUT_MS };
  return ackResult(await nl.request(RTM_SETLINK, 0, payload, opts), opts);
}

/**
 * Sets VF `vf`'s admin MAC (§1.4). `retry.allowRetry` in: the caller may retry an all-zero MAC
 * refused with EINVAL (with 02:00:00:00:00:00); then −EINVAL comes back silently and allowRetry
 * stays true. Any other failure is reported and clears allowRetry. A missing MAC is −EINVAL
 * with nothing sent.
 */
export async function setVfMac(nl: RtNetlink, pf: string, vf: number, mac: string | null, retry: { allowRetry: boolean }): Promise<VfResult> {
  const bytes = mac ? parseMac(mac) : null;
  if (!mac || !bytes) {
    return { rc: -Errno.EINVAL, error: virtError(ErrorNumber.INVALID_ARG, ErrorDomain.NONE, `no valid MAC address given for ifname ${pf} vf ${vf}`) };
  }
  const text = formatMac(bytes);
  const op = `Cannot set interface MAC to ${text} for ifname ${pf} vf ${vf}`;
  const rc = await sendVfRequest(nl, formatVfMacRequest(pf, vf, bytes), op, pf);
  if (rc === 0) return { rc, error: null };
  if (rc === -Errno.EINVAL && retry.allowRetry && isZeroMac(text)) return { rc, error: null };
  retry.allowRetry = false;
  return { rc, error: systemError(ErrorDomain.NONE, -rc, op, { object: pf, value: text }) };
}

/**
 * Sets VF `vf`'s VLAN (§1.5). `vlan` null means "no VLAN requested": the request is sent all the
 * same with vlan 0 (clearing any stale tag), and EPERM from it is success. A given vlan outside
 * 0..4095 is −ERANGE with nothing sent.
 */
export async function setVfVlan(nl: RtNetlink, pf: string, vf: number, vlan: number | null): Promise<VfResult> {
  const op = `Cannot set interface vlanid to ${vlan ?? 0} for ifname ${pf} vf ${vf}`;
  if (vlan !== null && (!Number.isInteger(vlan) || vlan < 0 || vlan > 4095)) {
    return { rc: -Errno.ERANGE, error: systemError(ErrorDomain.NONE, Errno.ERANGE, op, { object: pf, value: String(vlan) }) };
  }
  const rc = await sendVfRequest(nl, formatVfVlanRequest(pf, vf, vlan ?? 0), op, pf);
  if (rc === 0) return { rc, error: null };
  if (rc === -Errno.EPERM && vlan === null) return { rc: 0, error: null };
  return { rc, error: systemError(ErrorDomain.NONE, -rc, op, { object: pf, value: String(vlan ?? 0) }) };
}

/**
 * Admin MAC (when given) then VLAN (§1.6); a MAC failure returns at once and no VLAN request is
 * sent.
 */
export async function setVfConfig(
  nl: RtNetlink,
  pf: string,
  vf: number,
  mac: string | null,
  vlan: number | null,
  retry: { allowRetry: boolean },
): Promise<VfResult> {
  if (mac !== null) {
    const r = await setVfMac(nl, pf, vf, mac, retry);
    if (r.rc < 0) return r;
  }
  return setVfVlan(nl, pf, vf, vlan);
}

/** What the PF holds for one VF. */
export interface VfAdminConfig {
  adminMac: string;
  vlanTag: number;
}

/**
 * Reads VF `vf`'s admin MAC and VLAN from the PF (§1.7): RTM_GETLINK with IFLA_EXT_MASK =
 * RTEXT_FILTER_VF, since without it the kernel leaves the VF list out.
 */
export async function getVfConfig(nl: RtNetlink, pf: string, vf: number): Promise<VfAdminConfig> {
  const opts = { op: `Unable to read VF ${vf} configuration of PF '${pf}'`, dev: pf, timeoutMs: VF_REPLY_TIMEOUT_MS };
  const reply = await nl.request(RTM_GETLINK, 0, formatLinkMessage({ link: {}, attrs: { ifname: pf, extMask: { vf: true } } }), opts);
  if (reply.kind === 'error') throw systemError(ErrorDomain.NONE, reply.errno, opts.op, { object: pf });
  if (reply.kind !== 'messages' || reply.messages[0]!.type !== RTM_NEWLINK) throw malformedReply(opts.op, pf);
  let list;
  try {
    list = parseLinkMessage(reply.messages[0]!.data).attrs.vfinfoList;
  } catch {
    throw malformedReply(opts.op, pf);
  }
  if (!list) throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.NONE, 'missing IFLA_VF_INFO in netlink response', { object: pf });
  let adminMac: string | null = null;
  let vlanTag: number | null = null;
  for (const info of list) {
    if (adminMac === null && info.mac?.vf === vf) adminMac = formatMac(info.mac.mac);
    if (vlanTag === null && info.vlan?.vf === vf) vlanTag = info.vlan.vlan;
  }
  if (adminMac === null && vlanTag === null) {
    throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.NONE, `couldn't find IFLA_VF_INFO for VF ${vf} in netlink response`, { object: pf });
  }
  return { adminMac: adminMac ?? '00:00:00:00:00:00', vlanTag: vlanTag ?? 0 };
}
