// A domain's job lock: operations that change one domain run one at a time, in call order;
// operations on different domains run in parallel. Queries do not take it.
import { ErrorDomain, ErrorNumber, virtError } from '../../errors/index.js';

/** libvirt's job wait limit before "Timed out during operation: cannot acquire state change lock". */
const JOB_WAIT_MS = 30_000;

export class DomainJob {
  private tail: Promise<void> = Promise.resolve();
  private holder: string | undefined;
  private waiting = 0;

  /** The operation running now, for messages. */
  get current(): string | undefined {
    return this.holder;
  }

  get busy(): boolean {
    return this.holder !== undefined || this.waiting > 0;
  }

  /**
   * Runs fn once every earlier job has finished. Fails with OPERATION_TIMEOUT when the lock is
   * not free within the wait limit (libvirt's "cannot acquire state change lock (held by …)").
   */
  async run<T>(what: string, fn: () => Promise<T>, waitMs = JOB_WAIT_MS): Promise<T> {
    const prev = this.tail;
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    this.tail = prev.then(() => mine);
    this.waiting++;
    let timer: NodeJS.Timeout | undefined;
    try {
      const acquired = await Promise.race([
        prev.then(() => true),
        new Promise<false>((r) => (timer = setTimeout(() => r(false), waitMs))),
      ]);
      if (!acquired) {
        // Our turn is skipped: release at once when it comes, so later jobs are not held up.
        void prev.then(release);
        throw virtError(
          ErrorNumber.OPERATION_TIMEOUT,
          ErrorDomain.QEMU,
          `cannot acquire state change lock (held by ${this.holder ?? 'another job'}) for ${what}`,
        );
      }
    } finally {
      clearTimeout(timer);
      this.waiting--;
    }
    this.holder = what;
    try {
      return await fn();
    } finally {
      this.holder = undefined;
      release();
    }
  }
}
