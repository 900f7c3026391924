// The keepalive program (0x6b656570 'keep', version 1) and its timer, with libvirt's rule: a side
// sends a PING after `interval` seconds without receiving any message; every received message
// resets the count; after `count` PINGs without anything coming back the peer is dead.
// Both ends answer every PING with a PONG whether or not keepalive was negotiated.
import {
  encodeRawMessage,
  KEEPALIVE_PROGRAM,
  KEEPALIVE_PROTOCOL_VERSION,
  KeepaliveProcedure,
  MessageStatus,
  MessageType,
  type MessageHeader,
} from './message.js';

function keepaliveFrame(proc: number): Buffer {
  return encodeRawMessage({
    prog: KEEPALIVE_PROGRAM,
    vers: KEEPALIVE_PROTOCOL_VERSION,
    proc,
    type: MessageType.MESSAGE,
    serial: 0,
    status: MessageStatus.OK,
  });
}

/** The 28-byte PING and PONG frames (never modified; written as they are). */
export const PING_FRAME: Buffer = keepaliveFrame(KeepaliveProcedure.PING);
export const PONG_FRAME: Buffer = keepaliveFrame(KeepaliveProcedure.PONG);

/** A keepalive MESSAGE (PING, PONG or an unknown keepalive procedure, which is ignored). */
export function isKeepalive(h: MessageHeader): boolean {
  return h.prog === KEEPALIVE_PROGRAM && h.vers === KEEPALIVE_PROTOCOL_VERSION && h.type === MessageType.MESSAGE;
}

export interface KeepAliveOptions {
  /** Seconds without any received message before a PING; <= 0 disables. */
  interval: number;
  /** PINGs without an answer before the peer is declared dead. */
  count: number;
  sendPing(): void;
  /** The peer is dead: close the connection (reason: keepalive timeout). */
  onDead(): void;
}

export class KeepAlive {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private intervalStart = 0;
  private countToDeath: number;

  constructor(private readonly opts: KeepAliveOptions) {
    this.countToDeath = opts.count;
  }

  get running(): boolean {
    return this.timer !== null;
  }

  start(): void {
    if (this.timer || this.opts.interval <= 0) return;
    this.countToDeath = this.opts.count;
    this.intervalStart = Date.now();
    this.schedule(this.opts.interval * 1000);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /**
   * Call for every message received from the peer. Cheap: it only records the time; the timer
   * looks at it when it fires (so busy connections do not re-arm a timer per message).
   */
  received(): void {
    this.countToDeath = this.opts.count;
    this.intervalStart = Date.now();
  }

  private schedule(ms: number): void {
    const t = setTimeout(() => this.tick(), ms);
    (t as { unref?: () => void }).unref?.();
    this.timer = t;
  }

  private tick(): void {
    this.timer = null;
    const intervalMs = this.opts.interval * 1000;
    const idle = Date.now() - this.intervalStart;
    if (idle < intervalMs) {
      this.schedule(intervalMs - idle);
      return;
    }
    if (this.countToDeath === 0) {
      this.opts.onDead();
      return;
    }
    this.countToDeath--;
    this.intervalStart = Date.now();
    this.schedule(intervalMs);
    this.opts.sendPing();
  }
}
