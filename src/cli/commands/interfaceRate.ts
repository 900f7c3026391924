// virsh's --inbound/--outbound value "average[,peak[,burst[,floor]]]" (virshParseRateStr) and
// the <bandwidth> it becomes.
import { OptionError } from '../shell.js';

export interface Rate {
  average: number;
  peak: number;
  burst: number;
  floor: number;
}

/** Parses one rate; an empty field is 0, anything else not a number is "field 'x' is malformed". */
export function parseRate(text: string): Rate {
  const fields = ['average', 'peak', 'burst', 'floor'] as const;
  const parts = text.split(',');
  if (parts.length > fields.length) throw new OptionError(`too many fields in rate '${text}'`);
  const r: Rate = { average: 0, peak: 0, burst: 0, floor: 0 };
  parts.forEach((p, i) => {
    if (p === '') return;
    if (!/^\d+$/.test(p) || Number(p) > 0xffffffff) throw new OptionError(`field '${fields[i]}' is malformed`);
    r[fields[i]!] = Number(p);
  });
  return r;
}

/** The checks virsh makes before it builds XML or calls libvirt. */
export function checkRates(inbound: Rate | undefined, outbound: Rate | undefined): void {
  if (inbound && !inbound.average && !inbound.floor) throw new OptionError('either inbound average or floor is mandatory');
  if (outbound) {
    if (!outbound.average) throw new OptionError('outbound average is mandatory');
    if (outbound.floor) throw new OptionError('outbound floor is unsupported yet');
  }
}

/** <inbound average='…' peak='…' burst='…' floor='…'/> with only the non-zero attributes. */
export function rateElement(name: 'inbound' | 'outbound', r: Rate): string {
  let s = `<${name} average='${r.average}'`;
  if (r.peak) s += ` peak='${r.peak}'`;
  if (r.burst) s += ` burst='${r.burst}'`;
  if (r.floor) s += ` floor='${r.floor}'`;
  return `${s}/>`;
}
