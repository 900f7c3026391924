import { DomainCreateFlags, ErrorNumber } from '../../api/index.js';
import { runConsole } from '../console.js';
import { domainAction } from './domainAction.js';

export const command = domainAction({
  name: 'start',
  help: 'start a (previously defined) inactive domain',
  desc: 'Start a domain, either from the last managedsave\n    state, or via a fresh boot if no managedsave state\n    is present.',
  opts: [
    { name: 'console', type: 'bool', help: 'attach to console after creation' },
    { name: 'paused', type: 'bool', help: 'leave the guest paused after creation' },
    { name: 'autodestroy', type: 'bool', help: 'automatically destroy the guest when virsh disconnects' },
    { name: 'bypass-cache', type: 'bool', help: 'avoid file system cache when loading' },
    { name: 'force-boot', type: 'bool', help: 'force fresh boot by discarding any managed save' },
    { name: 'pass-fds', type: 'string', help: 'pass file descriptors N,M,... to the guest' },
    { name: 'reset-nvram', type: 'bool', help: 're-initialize NVRAM from its pristine template' },
  ],
  verb: 'start',
  done: 'started',
  ownName: true,
  after: async (sh, dom, cmd) => (sh.bool(cmd, 'console') ? runConsole(sh, dom) : true),
  precheck(sh, dom) {
    // virsh asks before it tries: a domain with an id is running already.
    if (dom.getID() !== -1) return sh.fail('Domain is already active');
    return true;
  },
  async act(sh, dom, cmd) {
    let flags = 0;
    if (sh.bool(cmd, 'paused')) flags |= DomainCreateFlags.PAUSED;
    if (sh.bool(cmd, 'autodestroy')) flags |= DomainCreateFlags.AUTODESTROY;
    if (sh.bool(cmd, 'bypass-cache')) flags |= DomainCreateFlags.BYPASS_CACHE;
    if (sh.bool(cmd, 'force-boot')) flags |= DomainCreateFlags.FORCE_BOOT;
    if (sh.bool(cmd, 'reset-nvram')) flags |= DomainCreateFlags.RESET_NVRAM;
    try {
      if (flags) await dom.createWithFlags(flags);
      else await dom.create();
    } catch (e) {
      // virsh retries without --force-boot where the driver does not know it (the test driver).
      const code = (e as { code?: number }).code;
      if (!(flags & DomainCreateFlags.FORCE_BOOT) || (code !== ErrorNumber.NO_SUPPORT && code !== ErrorNumber.INVALID_ARG)) throw e;
      flags &= ~DomainCreateFlags.FORCE_BOOT;
      if (flags) await dom.createWithFlags(flags);
      else await dom.create();
    }
  },
});
