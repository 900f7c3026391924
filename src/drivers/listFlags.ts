// The filters of virConnectListAllDomains / ListAllNetworks / ListAllStoragePools, as libvirt's
// object lists apply them: flags come in pairs (ACTIVE/INACTIVE, PERSISTENT/TRANSIENT, …); a
// pair with neither flag set lets every object through, one with a flag set lets through the
// objects that have what it names. Every driver filters with these, so all list alike.
import {
  ConnectListAllDomainsFlags as LD,
  ConnectListAllNetworksFlags as LN,
  ConnectListAllStoragePoolsFlags as LP,
  DomainState,
} from './constants.js';

const union = (flags: Record<string, number>): number => Object.values(flags).reduce((a, b) => a | b, 0);

/** Every ConnectListAllDomainsFlags bit (what checkFlags allows). */
export const ALL_DOMAIN_LIST_FLAGS = union(LD);
/** Every ConnectListAllNetworksFlags bit. */
export const ALL_NETWORK_LIST_FLAGS = union(LN);
/** Every ConnectListAllStoragePoolsFlags bit. */
export const ALL_POOL_LIST_FLAGS = union(LP);

/** One pair: true when neither `yes` nor `no` is in flags, or the one matching `has` is. */
function matchesFlagPair(flags: number, has: boolean, yes: number, no: number): boolean {
  return !(flags & (yes | no)) || (flags & (has ? yes : no)) !== 0;
}

/** What the domain filter looks at. */
export interface DomainListFacts {
  readonly active: boolean;
  readonly persistent: boolean;
  /** DomainState */
  readonly state: number;
  readonly autostart: boolean;
  readonly hasManagedSave?: boolean;
}

const STATE_FLAGS = LD.RUNNING | LD.PAUSED | LD.SHUTOFF | LD.OTHER;

/** virDomainObjListFilter. Snapshots and checkpoints: none exist in tsvirt's drivers. */
export function domainMatchesListFlags(flags: number, d: DomainListFacts): boolean {
  if (flags === 0) return true;
  if (!matchesFlagPair(flags, d.active, LD.ACTIVE, LD.INACTIVE)) return false;
  if (!matchesFlagPair(flags, d.persistent, LD.PERSISTENT, LD.TRANSIENT)) return false;
  if (flags & STATE_FLAGS) {
    const s = d.state;
    const known = s === DomainState.RUNNING || s === DomainState.PAUSED || s === DomainState.SHUTOFF;
    const ok =
      (flags & LD.RUNNING && s === DomainState.RUNNING) ||
      (flags & LD.PAUSED && s === DomainState.PAUSED) ||
      (flags & LD.SHUTOFF && s === DomainState.SHUTOFF) ||
      (flags & LD.OTHER && !known);
    if (!ok) return false;
  }
  return (
    matchesFlagPair(flags, d.hasManagedSave ?? false, LD.MANAGEDSAVE, LD.NO_MANAGEDSAVE) &&
    matchesFlagPair(flags, d.autostart, LD.AUTOSTART, LD.NO_AUTOSTART) &&
    matchesFlagPair(flags, false, LD.HAS_SNAPSHOT, LD.NO_SNAPSHOT) &&
    matchesFlagPair(flags, false, LD.HAS_CHECKPOINT, LD.NO_CHECKPOINT)
  );
}

interface ObjectListFacts {
  readonly active: boolean;
  readonly persistent: boolean;
  readonly autostart: boolean;
}

/** The active, persistent and autostart pairs of the network and pool flags. */
function matchesStatePairs(flags: number, o: ObjectListFacts, F: typeof LN | typeof LP): boolean {
  return (
    matchesFlagPair(flags, o.active, F.ACTIVE, F.INACTIVE) &&
    matchesFlagPair(flags, o.persistent, F.PERSISTENT, F.TRANSIENT) &&
    matchesFlagPair(flags, o.autostart, F.AUTOSTART, F.NO_AUTOSTART)
  );
}

/** virNetworkObjListFilter */
export function networkMatchesListFlags(flags: number, n: ObjectListFacts): boolean {
  return matchesStatePairs(flags, n, LN);
}

const POOL_TYPE_FLAGS: Record<string, number> = {
  dir: LP.DIR,
  fs: LP.FS,
  netfs: LP.NETFS,
  logical: LP.LOGICAL,
  disk: LP.DISK,
  iscsi: LP.ISCSI,
  scsi: LP.SCSI,
  mpath: LP.MPATH,
  rbd: LP.RBD,
  sheepdog: LP.SHEEPDOG,
  gluster: LP.GLUSTER,
  zfs: LP.ZFS,
  vstorage: LP.VSTORAGE,
  'iscsi-direct': LP.ISCSI_DIRECT,
};
const ANY_POOL_TYPE = union(POOL_TYPE_FLAGS);

/** virStoragePoolObjListFilter: the state pairs, then the pool type when any type flag is set. */
export function poolMatchesListFlags(flags: number, p: ObjectListFacts & { readonly type: string }): boolean {
  if (!matchesStatePairs(flags, p, LP)) return false;
  return !(flags & ANY_POOL_TYPE) || (flags & (POOL_TYPE_FLAGS[p.type] ?? 0)) !== 0;
}
