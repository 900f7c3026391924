// --mode of shutdown and reboot: a comma-separated list of methods, each one flag bit.
import { OptionError } from '../shell.js';

const MODES: Record<string, number> = { acpi: 1, agent: 2, initctl: 4, signal: 8, paravirt: 16 };

export function shutdownModeFlags(mode: string | undefined): number {
  if (mode === undefined) return 0;
  let flags = 0;
  for (const m of mode.split(',')) {
    const bit = MODES[m];
    if (bit === undefined) {
      throw new OptionError(`Unknown mode ${m} value, expecting 'acpi', 'agent', 'initctl', 'signal', or 'paravirt'`);
    }
    flags |= bit;
  }
  return flags;
}
