// One data stream riding on an RPC connection (DOMAIN_OPEN_CONSOLE, volume upload/download):
// STREAM packets carrying the proc and serial of the call that opened it. Data goes as
// STREAM/CONTINUE with raw bytes (chunks of at most 262120 bytes, as libvirt sends them); the
// end as STREAM/OK with no body, which the other side answers with its own STREAM/OK; a failure
// as STREAM/ERROR with a virNetMessageError body. The same class serves both ends.
import { Duplex } from 'node:stream';
import { VirtError } from '../errors/index.js';
import {
  encodeMessage,
  encodeRawMessage,
  MESSAGE_LEGACY_PAYLOAD_MAX,
  MessageStatus,
  MessageType,
  type MessageHeader,
} from './message.js';
import { NetMessageError, netErrorToVirtError, rpcError, virtErrorToNetError } from './netError.js';
import * as x from './xdr.js';

export interface StreamTarget {
  prog: number;
  vers: number;
  proc: number;
  serial: number;
}

export class RpcStream extends Duplex {
  private sentEnd = false;
  private gotEnd = false;

  private readonly answerEnd: boolean;

  /**
   * @param send writes one frame to the connection; returns false when the connection is gone.
   * @param onDone called once when the stream is finished both ways or failed, to unregister it.
   * @param opts.answerEnd answer the peer's end with ours at once (the client side). A server
   *   passes false and ends its side when what feeds it has finished, as libvirtd answers only
   *   after virStreamFinish.
   */
  constructor(
    readonly target: StreamTarget,
    private readonly send: (frame: Buffer) => boolean,
    private readonly onDone: () => void,
    opts: { answerEnd?: boolean } = {},
  ) {
    super({ allowHalfOpen: true });
    this.answerEnd = opts.answerEnd ?? true;
  }

  private header(status: number): MessageHeader {
    const t = this.target;
    return { prog: t.prog, vers: t.vers, proc: t.proc, type: MessageType.STREAM, serial: t.serial, status };
  }

  override _read(): void {
    // Data is pushed as packets arrive.
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    for (let off = 0; off < chunk.length; off += MESSAGE_LEGACY_PAYLOAD_MAX) {
      const piece = chunk.subarray(off, Math.min(chunk.length, off + MESSAGE_LEGACY_PAYLOAD_MAX));
      if (!this.send(encodeRawMessage(this.header(MessageStatus.CONTINUE), piece))) {
        cb(rpcError('stream connection is closed'));
        return;
      }
    }
    cb();
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.sendEnd();
    cb();
    this.maybeDone();
  }

  private sendEnd(): void {
    if (this.sentEnd) return;
    this.sentEnd = true;
    this.send(encodeRawMessage(this.header(MessageStatus.OK)));
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    // Aborting our side tells the peer, unless the stream already finished cleanly.
    if (!(this.sentEnd && this.gotEnd)) {
      this.sentEnd = true;
      const body = virtErrorToNetError(err ?? rpcError('stream aborted'));
      this.send(encodeMessage(this.header(MessageStatus.ERROR), NetMessageError, body));
    }
    this.onDone();
    cb(err);
  }

  /** Feeds one received STREAM packet (its header already matched to this stream). */
  receive(h: MessageHeader, payload: Buffer): void {
    if (this.destroyed) return;
    switch (h.status) {
      case MessageStatus.CONTINUE:
        if (!this.gotEnd && payload.length > 0) this.push(payload);
        return;
      case MessageStatus.OK:
        if (this.gotEnd) return;
        this.gotEnd = true;
        this.push(null);
        // The receiver of the end answers with its own end.
        if (this.answerEnd && !this.writableEnded) this.end();
        this.maybeDone();
        return;
      case MessageStatus.ERROR: {
        let err: VirtError;
        try {
          err = netErrorToVirtError(x.decode(NetMessageError, payload));
        } catch {
          err = rpcError('stream aborted by the peer');
        }
        this.gotEnd = true;
        this.sentEnd = true; // no answer to an abort
        this.destroy(err);
        return;
      }
      default:
        this.destroy(rpcError(`Unexpected stream status ${h.status}`));
    }
  }

  /** The connection went away under the stream. */
  connectionClosed(err: Error): void {
    if (this.destroyed) return;
    this.sentEnd = true;
    this.gotEnd = true;
    this.destroy(err);
  }

  /** The call that was to open the stream failed: there is nothing to tell the peer. */
  discard(): void {
    if (this.destroyed) return;
    this.sentEnd = true;
    this.gotEnd = true;
    this.destroy();
  }

  private maybeDone(): void {
    if (this.sentEnd && this.gotEnd) this.onDone();
  }
}
