// Waiting for the host, a guest or a daemon to reach a state, by polling. The deadline keeps a
// test that waits for something that never comes from hanging; it is no speed check (bench/).

/** Polls `cond` every 100 ms until it holds; returns the milliseconds it took, for diagnostics. */
export async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<number> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return Date.now() - t0;
}
