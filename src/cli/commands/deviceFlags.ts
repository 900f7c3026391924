// The --persistent/--config/--live/--current options of virsh's device commands and how they
// become virDomainModificationImpact flags (virsh's cmdAttachDevice and friends).
import { DomainModificationImpact, type Domain } from '../../api/index.js';
import type { OptDef, ParsedCommand } from '../commandDef.js';
import type { Shell } from '../shell.js';

export const impactOpts: OptDef[] = [
  { name: 'persistent', type: 'bool', help: 'make live change persistent' },
  { name: 'config', type: 'bool', help: 'affect next boot' },
  { name: 'live', type: 'bool', help: 'affect running domain' },
  { name: 'current', type: 'bool', help: 'affect current domain' },
];

/**
 * The flags for a device change: --config or --persistent → CONFIG, --live → LIVE, and
 * --persistent on a running domain also LIVE. --current excludes the others.
 */
export async function deviceImpact(sh: Shell, cmd: ParsedCommand, dom: Domain, opts: { persistent?: boolean } = { persistent: true }): Promise<number> {
  if (opts.persistent !== false) sh.exclusive(cmd, 'persistent', 'current');
  sh.exclusive(cmd, 'current', 'live');
  sh.exclusive(cmd, 'current', 'config');
  let flags = 0;
  if (sh.bool(cmd, 'config') || sh.bool(cmd, 'persistent')) flags |= DomainModificationImpact.CONFIG;
  if (sh.bool(cmd, 'live')) flags |= DomainModificationImpact.LIVE;
  if (sh.bool(cmd, 'persistent') && (await dom.isActive())) flags |= DomainModificationImpact.LIVE;
  return flags;
}
