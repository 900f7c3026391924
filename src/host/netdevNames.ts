// Names for the host-side devices tsvirt creates: `vnet%d` taps, `macvtap%d`/`macvlan%d`. One
// counter per template, starting at 0 and advanced on every try (so a name freed a moment ago
// is not handed out again at once), skipping names that are taken; at daemon start every
// running interface pushes its template's counter past its number.
import { ErrorDomain, ErrorNumber, virtError } from '../errors/index.js';

export const VNET_TEMPLATE = 'vnet%d';
export const MACVTAP_TEMPLATE = 'macvtap%d';
export const MACVLAN_TEMPLATE = 'macvlan%d';

const MAX_TRIES = 10000;
const IFNAMSIZ = 16;

/** True when `name` has exactly one `%d` (a template to fill), false for a literal name. */
export function isNameTemplate(name: string): boolean {
  return name.split('%d').length === 2;
}

/** A name tried by allocate(): the attempt's result, or 'taken' to move on to the next name. */
export type NameAttempt<T> = (name: string) => Promise<T | 'taken'>;

export class NetdevNames {
  private readonly counters = new Map<string, number>();

  /** Wrap-around point: the number must fit in IFNAMSIZ-1 characters (and an int). */
  private static limit(template: string): number {
    const fixed = template.length - 2;
    return Math.min(10 ** Math.max(IFNAMSIZ - 1 - fixed, 1), 2 ** 31 - 1);
  }

  /**
   * Records a name in use (e.g. found on a running domain at reconnect): if it matches one of
   * `templates`, that counter moves past its number.
   */
  reserve(name: string, templates: readonly string[] = [VNET_TEMPLATE, MACVTAP_TEMPLATE, MACVLAN_TEMPLATE]): void {
    for (const t of templates) {
      const [pre, post] = t.split('%d') as [string, string];
      if (!name.startsWith(pre) || !name.endsWith(post)) continue;
      const digits = name.slice(pre.length, name.length - post.length);
      if (!/^\d+$/.test(digits)) continue;
      const n = Number(digits);
      const limit = NetdevNames.limit(t);
      if (n + 1 > (this.counters.get(t) ?? 0) && n + 1 < limit) this.counters.set(t, n + 1);
    }
  }

  /**
   * Fills `template` with successive numbers and calls `attempt` with each name until it returns
   * something other than 'taken'. After 10000 names: internal error "no unused <prefix> names
   * available".
   */
  async allocate<T>(template: string, attempt: NameAttempt<T>): Promise<T> {
    if (!isNameTemplate(template)) throw new RangeError(`not a name template: ${template}`);
    const limit = NetdevNames.limit(template);
    for (let i = 0; i < MAX_TRIES; i++) {
      // Advance before awaiting, so concurrent allocations try different names.
      const n = this.counters.get(template) ?? 0;
      this.counters.set(template, (n + 1) % limit);
      const result = await attempt(template.replace('%d', String(n)));
      if (result !== 'taken') return result;
    }
    const prefix = template.split('%d')[0];
    throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.NONE, `no unused ${prefix} names available`);
  }
}
