// Where the RPC layer reports what an operator should see (a client dropped for a full event
// queue, a bad frame, a keepalive timeout). The daemon passes its own logger.
export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

/** Warnings and errors to stderr, the rest dropped. */
export const stderrLogger: Logger = {
  debug() {},
  info() {},
  warn: (m) => process.stderr.write(`tsvirt: warning: ${m}\n`),
  error: (m) => process.stderr.write(`tsvirt: error: ${m}\n`),
};

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
