import { DomainUndefineFlagsValues as U } from '../../api/index.js';
import type { CommandDef } from '../commandDef.js';
import { lookupDomain } from '../lookup.js';
import { domainOpt } from './domainAction.js';
import { domainDisks } from './domblklist.js';

export const command: CommandDef = {
  name: 'undefine',
  help: 'undefine a domain',
  desc: 'Undefine an inactive domain, or convert persistent to transient.',
  opts: [
    domainOpt,
    { name: 'managed-save', type: 'bool', help: 'remove domain managed state file' },
    {
      name: 'storage',
      type: 'string',
      reqOpt: true,
      help: 'remove associated storage volumes (comma separated list of targets or source paths) (see domblklist)',
    },
    { name: 'remove-all-storage', type: 'bool', help: 'remove all associated storage volumes (use with caution)' },
    {
      name: 'delete-storage-volume-snapshots',
      type: 'bool',
      help: 'delete snapshots associated with volume(s), requires --remove-all-storage (must be supported by storage driver)',
    },
    { name: 'wipe-storage', type: 'bool', help: 'wipe data on the removed volumes' },
    { name: 'snapshots-metadata', type: 'bool', help: 'remove all domain snapshot metadata (vm must be inactive)' },
    { name: 'checkpoints-metadata', type: 'bool', help: 'remove all domain checkpoint metadata (vm must be inactive)' },
    { name: 'nvram', type: 'bool', help: 'remove nvram file' },
    { name: 'keep-nvram', type: 'bool', help: 'keep nvram file' },
    { name: 'tpm', type: 'bool', help: 'remove TPM state' },
    { name: 'keep-tpm', type: 'bool', help: 'keep TPM state' },
  ],
  async run(sh, cmd) {
    sh.exclusive(cmd, 'nvram', 'keep-nvram');
    sh.exclusive(cmd, 'tpm', 'keep-tpm');
    if (cmd.has('delete-storage-volume-snapshots') && !cmd.has('remove-all-storage')) {
      return sh.fail('Option --remove-all-storage is required by option --delete-storage-volume-snapshots');
    }
    const storage = sh.optString(cmd, 'storage');
    const removeAll = sh.bool(cmd, 'remove-all-storage');
    if (sh.bool(cmd, 'wipe-storage') && storage === undefined && !removeAll) {
      return sh.fail("'--wipe-storage' requires '--storage <string>' or '--remove-all-storage'");
    }
    const found = await lookupDomain(sh, cmd);
    if (!found) return false;
    const { dom, name } = found;
    if (storage !== undefined || removeAll) {
      // The volumes to remove are looked up before the domain goes. The test driver manages no
      // volume behind a domain's disks, so each one is left for the user, as virsh says.
      const disks = domainDisks(await dom.getXMLDesc(0));
      const wanted = storage?.split(',').filter((x) => x !== '') ?? [];
      const matched = new Set<string>();
      for (const d of disks) {
        if (!d.source) continue;
        if (!removeAll) {
          const hit = wanted.find((w) => w === d.target || w === d.source);
          if (hit === undefined) continue;
          matched.add(hit);
        }
        sh.error(`Storage volume '${d.target}'(${d.source}) is not managed by libvirt. Remove it manually.\n`);
      }
      const missing = wanted.find((w) => !matched.has(w));
      if (!removeAll && missing !== undefined) return sh.fail(`Volume '${missing}' was not found in domain's definition.\n`);
    }
    let flags = 0;
    if (sh.bool(cmd, 'managed-save')) flags |= U.MANAGED_SAVE;
    if (sh.bool(cmd, 'snapshots-metadata')) flags |= U.SNAPSHOTS_METADATA;
    if (sh.bool(cmd, 'checkpoints-metadata')) flags |= U.CHECKPOINTS_METADATA;
    if (sh.bool(cmd, 'nvram')) flags |= U.NVRAM;
    if (sh.bool(cmd, 'keep-nvram')) flags |= U.KEEP_NVRAM;
    if (sh.bool(cmd, 'tpm')) flags |= U.TPM;
    if (sh.bool(cmd, 'keep-tpm')) flags |= U.KEEP_TPM;
    try {
      if (flags) await dom.undefineFlags(flags);
      else await dom.undefine();
    } catch (e) {
      return sh.fail(`Failed to undefine domain '${name}'`, e);
    }
    sh.printExtra(`Domain '${name}' has been undefined\n`);
    return true;
  },
};
