import type { CommandDef, OptDef } from '../commandDef.js';
import type { CommandRegistry, Shell } from '../shell.js';

function synopsisPart(o: OptDef): string {
  switch (o.type) {
    case 'bool':
      return `[--${o.name}]`;
    case 'int':
      return o.required ? `--${o.name} <number>` : `[--${o.name} <number>]`;
    case 'string':
      return o.required ? `--${o.name} <string>` : `[--${o.name} <string>]`;
    case 'data':
      return o.required ? `<${o.name}>` : `[<${o.name}>]`;
    case 'argv':
      return o.required ? `<${o.name}>...` : `[<${o.name}>]...`;
  }
}

function optionLabel(o: OptDef): string {
  switch (o.type) {
    case 'bool':
      return `--${o.name}`;
    case 'int':
      return `--${o.name} <number>`;
    case 'string':
      return `--${o.name} <string>`;
    case 'data':
      return `[--${o.name}] <string>`;
    case 'argv':
      return `<${o.name}>`;
  }
}

/** virsh's `help COMMAND` page. */
function commandHelp(def: CommandDef): string {
  let s = `  NAME\n    ${def.name} - ${def.help}\n`;
  s += `\n  SYNOPSIS\n    ${def.name}${def.opts.map((o) => ` ${synopsisPart(o)}`).join('')}\n`;
  if (def.desc) s += `\n  DESCRIPTION\n    ${def.desc}\n`;
  if (def.opts.length) {
    s += '\n  OPTIONS\n';
    for (const o of def.opts) s += `    ${optionLabel(o).padEnd(15)}  ${o.help}\n`;
  }
  return `${s}\n`;
}

async function groupHelp(g: CommandRegistry['groups'][number]): Promise<string> {
  let s = ` ${g.title} (help keyword '${g.keyword}'):\n`;
  for (const e of g.commands) {
    const def = (await e.load()).command;
    s += `    ${e.name.padEnd(30)} ${def.help}\n`;
  }
  return s;
}

export const command: CommandDef = {
  name: 'help',
  help: 'print help',
  desc: 'Prints global help, command specific help, or help for a\n    group of related commands',
  opts: [
    {
      name: 'command',
      type: 'string',
      help: 'Prints global help, command specific help, or help for a group of related commands',
    },
  ],
  noConnect: true,
  async run(sh: Shell, cmd) {
    const name = sh.optString(cmd, 'command');
    if (name === undefined) {
      let s = 'Grouped commands:\n\n';
      for (const g of sh.registry.groups) s += `${await groupHelp(g)}\n`;
      sh.print(s);
      return true;
    }
    const group = sh.registry.groups.find((g) => g.keyword === name);
    if (group) {
      sh.print(await groupHelp(group));
      return true;
    }
    const def = await sh.registry.load(name);
    if (!def) return sh.fail(`command or command group '${name}' doesn't exist`);
    sh.print(commandHelp(def));
    return true;
  },
};
