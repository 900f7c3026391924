// virsh's --inbound/--outbound value "average[,peak[,burst[,floor]]]" (virshParseRateStr) and
// the <bandwidth> it becomes.
import { OptionError } from '../shell.js';

export interface Rate {
  average: number;
  peak: number;
  burst: number;
  floor: number;
}

const UINT_MAX = 0xffffffff;

/**
 * Parses one rate; an empty field is 0, anything else not an unsigned 64-bit number is "field
 * 'x' is malformed" (each command then checks the range it accepts).
 */
export function parseRate(text: string): Rate {
  const fields = ['average', 'peak', 'burst', 'floor'] as const;
  const parts = text.split(',');
  if (parts.length > fields.length) throw new OptionError(`Rate string '${text}' has too many fields`);
  const r: Rate = { average: 0, peak: 0, burst: 0, floor: 0 };
  parts.forEach((p, i) => {
    if (p === '') return;
    if (!/^\d+$/.test(p) || BigInt(p) > 0xffffffffffffffffn) throw new OptionError(`field '${fields[i]}' is malformed`);
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

/**
 * domiftune's checks on one direction (cmdDomIftune): the API takes 32-bit rates, and an average
 * of 0 goes with a peak or burst only beside an inbound floor.
 */
export function checkTuneRate(name: 'inbound' | 'outbound', r: Rate): void {
  if (r.average > UINT_MAX || r.peak > UINT_MAX || r.burst > UINT_MAX) throw new OptionError(`${name} rate larger than maximum ${UINT_MAX}`);
  const averageMissing = !r.average && (r.burst || r.peak);
  if (name === 'inbound') {
    if (averageMissing && !r.floor) throw new OptionError('either inbound average or floor is mandatory');
    return;
  }
  if (averageMissing) throw new OptionError('outbound average is mandatory');
  if (r.floor) throw new OptionError('outbound floor is unsupported yet');
}

/** <inbound average='…' peak='…' burst='…' floor='…'/> with only the non-zero attributes. */
export function rateElement(name: 'inbound' | 'outbound', r: Rate): string {
  let s = `<${name} average='${r.average}'`;
  if (r.peak) s += ` peak='${r.peak}'`;
  if (r.burst) s += ` burst='${r.burst}'`;
  if (r.floor) s += ` floor='${r.floor}'`;
  return `${s}/>`;
}
