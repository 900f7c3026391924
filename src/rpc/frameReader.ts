// Incremental frame reader: bytes in (any chunking), whole messages out. The length word is
// checked before anything is allocated for the body (too small: < 28; too large: more than
// VIR_NET_MESSAGE_MAX + 4), so a peer cannot make us buffer more than one frame's limit.
import { MESSAGE_LEN_MAX, MESSAGE_MAX, MESSAGE_MIN } from './message.js';

export class FrameError extends Error {
  override get name(): string {
    return 'FrameError';
  }
}

export interface FrameReaderOptions {
  /** Largest acceptable header + payload; VIR_NET_MESSAGE_MAX unless lowered. */
  maxMessage?: number;
}

/**
 * Feed it with push(); it calls onFrame with each complete frame body (header + payload, the
 * length word stripped). After a FrameError it refuses further input.
 */
export class FrameReader {
  private readonly maxMessage: number;
  private readonly lenBuf = Buffer.alloc(MESSAGE_LEN_MAX);
  private lenHave = 0;
  /** Body bytes of the frame being assembled (views of received chunks, joined at the end). */
  private parts: Buffer[] = [];
  private bodyHave = 0;
  /** Body size of the frame being assembled, or -1 while its length word is incomplete. */
  private bodyLen = -1;
  private failed = false;

  constructor(
    private readonly onFrame: (body: Buffer) => void,
    opts: FrameReaderOptions = {},
  ) {
    this.maxMessage = opts.maxMessage ?? MESSAGE_MAX;
  }

  /** Bytes held for an incomplete frame: only what the peer actually sent, never the length it announced. */
  get buffered(): number {
    return this.lenHave + this.bodyHave;
  }

  /** Throws FrameError on a bad length word; frames before it in the chunk are delivered. */
  push(chunk: Buffer): void {
    if (this.failed) throw new FrameError('frame reader stopped after an error');
    let off = 0;
    const n = chunk.length;
    while (off < n) {
      if (this.bodyLen < 0) {
        // Fast path: a whole frame inside this chunk needs no copy.
        if (this.lenHave === 0 && n - off >= MESSAGE_LEN_MAX) {
          const len = chunk.readUInt32BE(off);
          this.check(len);
          if (n - off >= len) {
            const frame = chunk.subarray(off + MESSAGE_LEN_MAX, off + len);
            off += len;
            this.onFrame(frame);
            continue;
          }
          this.lenHave = MESSAGE_LEN_MAX;
          this.bodyLen = len - MESSAGE_LEN_MAX;
          off += MESSAGE_LEN_MAX;
          continue;
        }
        const take = Math.min(MESSAGE_LEN_MAX - this.lenHave, n - off);
        chunk.copy(this.lenBuf, this.lenHave, off, off + take);
        this.lenHave += take;
        off += take;
        if (this.lenHave === MESSAGE_LEN_MAX) {
          const len = this.lenBuf.readUInt32BE(0);
          this.check(len);
          this.bodyLen = len - MESSAGE_LEN_MAX;
        }
        continue;
      }
      const take = Math.min(this.bodyLen - this.bodyHave, n - off);
      this.parts.push(chunk.subarray(off, off + take));
      this.bodyHave += take;
      off += take;
      if (this.bodyHave === this.bodyLen) {
        const frame = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.bodyLen);
        this.parts = [];
        this.bodyHave = 0;
        this.bodyLen = -1;
        this.lenHave = 0;
        this.onFrame(frame);
      }
    }
  }

  private check(len: number): void {
    if (len < MESSAGE_MIN) {
      this.failed = true;
      throw new FrameError(`packet ${len} bytes received too small, want at least ${MESSAGE_MIN}`);
    }
    if (len - MESSAGE_LEN_MAX > this.maxMessage) {
      this.failed = true;
      throw new FrameError(`packet ${len} bytes received too large, want at most ${this.maxMessage + MESSAGE_LEN_MAX}`);
    }
  }
}
