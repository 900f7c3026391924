// What a shell command is (re-exported from shell.ts, where the parser that reads the
// definitions lives): a command is one module in src/cli/commands/ exporting
// `command: CommandDef`, listed once in commandTable.ts.
export { ParsedCommand, type CommandDef, type OptDef, type OptType } from './shell.js';
