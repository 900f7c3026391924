// Every shell command, in virsh's groups and order. A command is one module in ./commands/
// exporting `command: CommandDef`; adding one is one line here. Modules load when first used, so
// `tsvirt uri` does not load the code of fifty other commands.
import type { CommandDef, CommandRegistry } from './shell.js';

export interface CommandEntry {
  name: string;
  load: () => Promise<{ command: CommandDef }>;
}

export interface CommandGroup {
  title: string;
  keyword: string;
  commands: CommandEntry[];
}

const c = (name: string, load: CommandEntry['load']): CommandEntry => ({ name, load });

export const commandGroups: CommandGroup[] = [
  {
    title: 'Domain Management',
    keyword: 'domain',
    commands: [
      c('attach-device', () => import('./commands/attachDevice.js')),
      c('attach-interface', () => import('./commands/attachInterface.js')),
      c('autostart', () => import('./commands/autostart.js')),
      c('console', () => import('./commands/console.js')),
      c('create', () => import('./commands/create.js')),
      c('define', () => import('./commands/define.js')),
      c('destroy', () => import('./commands/destroy.js')),
      c('detach-device', () => import('./commands/detachDevice.js')),
      c('detach-interface', () => import('./commands/detachInterface.js')),
      c('domid', () => import('./commands/domid.js')),
      c('domiftune', () => import('./commands/domiftune.js')),
      c('domname', () => import('./commands/domname.js')),
      c('domuuid', () => import('./commands/domuuid.js')),
      c('dumpxml', () => import('./commands/dumpxml.js')),
      c('reboot', () => import('./commands/reboot.js')),
      c('resume', () => import('./commands/resume.js')),
      c('shutdown', () => import('./commands/shutdown.js')),
      c('start', () => import('./commands/start.js')),
      c('suspend', () => import('./commands/suspend.js')),
      c('undefine', () => import('./commands/undefine.js')),
      c('update-device', () => import('./commands/updateDevice.js')),
    ],
  },
  {
    title: 'Domain Monitoring',
    keyword: 'monitor',
    commands: [
      c('domblklist', () => import('./commands/domblklist.js')),
      c('domiflist', () => import('./commands/domiflist.js')),
      c('dominfo', () => import('./commands/dominfo.js')),
      c('domstate', () => import('./commands/domstate.js')),
      c('list', () => import('./commands/list.js')),
    ],
  },
  {
    title: 'Domain Events',
    keyword: 'events',
    commands: [c('event', () => import('./commands/event.js'))],
  },
  {
    title: 'Host and Hypervisor',
    keyword: 'host',
    commands: [
      c('capabilities', () => import('./commands/capabilities.js')),
      c('domcapabilities', () => import('./commands/domcapabilities.js')),
      c('hostname', () => import('./commands/hostname.js')),
      c('nodeinfo', () => import('./commands/nodeinfo.js')),
      c('uri', () => import('./commands/uri.js')),
      c('version', () => import('./commands/version.js')),
    ],
  },
  {
    title: 'Networking',
    keyword: 'network',
    commands: [
      c('net-autostart', () => import('./commands/netAutostart.js')),
      c('net-create', () => import('./commands/netCreate.js')),
      c('net-define', () => import('./commands/netDefine.js')),
      c('net-destroy', () => import('./commands/netDestroy.js')),
      c('net-dumpxml', () => import('./commands/netDumpxml.js')),
      c('net-info', () => import('./commands/netInfo.js')),
      c('net-list', () => import('./commands/netList.js')),
      c('net-start', () => import('./commands/netStart.js')),
      c('net-undefine', () => import('./commands/netUndefine.js')),
    ],
  },
  {
    title: 'Virsh itself',
    keyword: 'virsh',
    commands: [
      c('cd', () => import('./commands/cd.js')),
      c('echo', () => import('./commands/echo.js')),
      c('exit', () => import('./commands/quit.js').then((m) => ({ command: m.exitCommand }))),
      c('help', () => import('./commands/help.js')),
      c('pwd', () => import('./commands/pwd.js')),
      c('quit', () => import('./commands/quit.js')),
      c('connect', () => import('./commands/connect.js')),
    ],
  },
];

function findCommand(name: string): CommandEntry | undefined {
  for (const g of commandGroups) for (const e of g.commands) if (e.name === name) return e;
  return undefined;
}

export async function loadCommand(name: string): Promise<CommandDef | undefined> {
  const e = findCommand(name);
  return e ? (await e.load()).command : undefined;
}

export function allCommandNames(): string[] {
  return commandGroups.flatMap((g) => g.commands.map((e) => e.name));
}

export const registry: CommandRegistry = { groups: commandGroups, load: loadCommand };
