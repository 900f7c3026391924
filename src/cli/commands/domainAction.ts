// The shape shared by commands that look a domain up and do one thing to it (destroy, suspend,
// resume, …): virsh's message on success, "Failed to <verb> domain 'x'" and libvirt's error
// otherwise.
import type { Domain } from '../../api/index.js';
import type { CommandDef, OptDef, ParsedCommand } from '../commandDef.js';
import { lookupDomain } from '../lookup.js';
import { OptionError, type Shell } from '../shell.js';

export const domainOpt: OptDef = { name: 'domain', type: 'data', required: true, help: 'domain name, id or uuid' };

export function domainAction(spec: {
  name: string;
  help: string;
  desc: string;
  opts?: OptDef[];
  verb: string;
  done: string;
  act(sh: Shell, dom: Domain, cmd: ParsedCommand): Promise<void>;
  /** Checks before acting; returns false after reporting. */
  precheck?(sh: Shell, dom: Domain, name: string): boolean;
  /** Name messages by the domain's own name rather than the argument (virsh's start does). */
  ownName?: boolean;
  /** Runs after the success message; its result is the command's. */
  after?(sh: Shell, dom: Domain, cmd: ParsedCommand): Promise<boolean>;
}): CommandDef {
  return {
    name: spec.name,
    help: spec.help,
    desc: spec.desc,
    opts: [domainOpt, ...(spec.opts ?? [])],
    async run(sh, cmd) {
      const found = await lookupDomain(sh, cmd);
      if (!found) return false;
      const dom = found.dom;
      const name = spec.ownName ? dom.getName() : found.name;
      if (spec.precheck && !spec.precheck(sh, dom, name)) return false;
      try {
        await spec.act(sh, dom, cmd);
      } catch (e) {
        // A bad option value is reported alone, before anything was asked of libvirt.
        if (e instanceof OptionError) throw e;
        return sh.fail(`Failed to ${spec.verb} domain '${name}'`, e);
      }
      sh.printExtra(`Domain '${name}' ${spec.done}\n`);
      return spec.after ? spec.after(sh, dom, cmd) : true;
    },
  };
}
