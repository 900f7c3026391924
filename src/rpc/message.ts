// libvirt's RPC message: a 4-byte length word (counting itself), the 24-byte header
// (virNetMessageHeader) and a payload whose shape depends on type and status.
import * as x from './xdr.js';
import type { Codec } from './xdr.js';

/** VIR_NET_MESSAGE_MAX: header + payload. */
export const MESSAGE_MAX = 33554432;
export const MESSAGE_HEADER_MAX = 24;
const MESSAGE_PAYLOAD_MAX = MESSAGE_MAX - MESSAGE_HEADER_MAX;
export const MESSAGE_LEN_MAX = 4;
/** Smallest frame: length word + header. */
export const MESSAGE_MIN = MESSAGE_LEN_MAX + MESSAGE_HEADER_MAX;
export const MESSAGE_STRING_MAX = 4194304;
/** Stream data chunk size libvirt uses (VIR_NET_MESSAGE_LEGACY_PAYLOAD_MAX). */
export const MESSAGE_LEGACY_PAYLOAD_MAX = 262120;

/** virNetMessageType */
export const MessageType = {
  CALL: 0,
  REPLY: 1,
  MESSAGE: 2,
  STREAM: 3,
  CALL_WITH_FDS: 4,
  REPLY_WITH_FDS: 5,
  STREAM_HOLE: 6,
} as const;

/** virNetMessageStatus */
export const MessageStatus = {
  OK: 0,
  ERROR: 1,
  CONTINUE: 2,
} as const;

export const KEEPALIVE_PROGRAM = 0x6b656570;
export const KEEPALIVE_PROTOCOL_VERSION = 1;
export const KeepaliveProcedure = { PING: 1, PONG: 2 } as const;

/** virNetMessageHeader */
export interface MessageHeader {
  prog: number;
  vers: number;
  proc: number;
  type: number;
  serial: number;
  status: number;
}

export const MessageHeader: Codec<MessageHeader> = x.struct<MessageHeader>([
  ['prog', x.uint],
  ['vers', x.uint],
  ['proc', x.int],
  ['type', x.int],
  ['serial', x.uint],
  ['status', x.int],
]);

/** One received message: its header and the payload bytes after it (a view, not a copy). */
export interface Message {
  header: MessageHeader;
  payload: Buffer;
}

/** Decodes the header of a frame body (the bytes after the length word). */
export function decodeHeader(body: Buffer): MessageHeader {
  const b = body;
  if (b.length < MESSAGE_HEADER_MAX) throw new x.XdrError(`message of ${b.length} bytes has no complete header`);
  return {
    prog: b.readUInt32BE(0),
    vers: b.readUInt32BE(4),
    proc: b.readInt32BE(8),
    type: b.readInt32BE(12),
    serial: b.readUInt32BE(16),
    status: b.readInt32BE(20),
  };
}

function writeHeader(buf: Buffer, h: MessageHeader): void {
  buf.writeUInt32BE(buf.length, 0);
  buf.writeUInt32BE(h.prog >>> 0, 4);
  buf.writeUInt32BE(h.vers >>> 0, 8);
  buf.writeInt32BE(h.proc | 0, 12);
  buf.writeInt32BE(h.type | 0, 16);
  buf.writeUInt32BE(h.serial >>> 0, 20);
  buf.writeInt32BE(h.status | 0, 24);
}

/** Thrown when an outgoing message would exceed VIR_NET_MESSAGE_MAX. */
class MessageTooLargeError extends x.XdrError {}

/**
 * A whole frame (length word, header, XDR body) in one allocation: the body is sized first,
 * then written in place.
 */
export function encodeMessage<T>(h: MessageHeader, codec: Codec<T>, body: T): Buffer {
  const n = codec.size(body);
  if (n > MESSAGE_PAYLOAD_MAX) throw new MessageTooLargeError(`message payload of ${n} bytes over the limit ${MESSAGE_PAYLOAD_MAX}`);
  const buf = Buffer.allocUnsafe(MESSAGE_MIN + n);
  writeHeader(buf, h);
  const s = { buf, pos: MESSAGE_MIN, end: buf.length };
  codec.encode(s, body);
  return buf;
}

/** A frame whose payload is raw bytes (stream data) or empty. */
export function encodeRawMessage(h: MessageHeader, payload?: Buffer): Buffer {
  const n = payload ? payload.length : 0;
  if (n > MESSAGE_PAYLOAD_MAX) throw new MessageTooLargeError(`message payload of ${n} bytes over the limit ${MESSAGE_PAYLOAD_MAX}`);
  const buf = Buffer.allocUnsafe(MESSAGE_MIN + n);
  writeHeader(buf, h);
  if (payload) payload.copy(buf, MESSAGE_MIN);
  return buf;
}

/** The printable name of a message type, for logs. */
export function messageTypeName(type: number): string {
  for (const [k, v] of Object.entries(MessageType)) if (v === type) return k;
  return `TYPE_${type}`;
}
