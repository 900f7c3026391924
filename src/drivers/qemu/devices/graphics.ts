// <graphics type='vnc'> and <audio> on QEMU's command line: -vnc with its listen address or
// socket and the audio backend it carries, -audiodev for each <audio>. Without graphics QEMU
// gets -display none.
import type { GraphicsDef } from '../../../conf/domain/graphics.js';
import type { AudioDef } from '../../../conf/domain/sound.js';
import { ErrorDomain, ErrorNumber, virtError } from '../../../errors/index.js';
import type { DeviceBuildEnv } from '../commandLineContext.js';
import { escapeOpt, jsonArg, type QemuProps } from './qemuProps.js';

/** The first VNC port; display N listens on 5900 + N. */
export const VNC_PORT_MIN = 5900;

/**
 * The -vnc value. A port the runtime allocated (graphics.port ≥ 5900) is used as is; with
 * autoport and no port yet, QEMU picks the first free display itself (`to=`), and the runtime
 * reads the port back with query-vnc.
 */
export function vncArg(g: GraphicsDef, env: DeviceBuildEnv): string {
  const l = g.listens[0];
  let s: string;
  if (l?.type === 'socket') {
    if (!l.socket) throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.QEMU, 'VNC socket listen has no path');
    s = `vnc=unix:${escapeOpt(l.socket)}`;
  } else if (l?.type === 'none') {
    s = 'none';
  } else {
    let host = l?.address ?? '127.0.0.1';
    if (host.includes(':')) host = `[${host}]`;
    if (g.port !== undefined && g.port >= VNC_PORT_MIN) s = `${host}:${g.port - VNC_PORT_MIN}`;
    else if (g.autoport !== false) s = `${host}:0,to=${65535 - VNC_PORT_MIN}`;
    else {
      throw virtError(ErrorNumber.CONFIG_UNSUPPORTED, ErrorDomain.QEMU, `vnc port must be in range [${VNC_PORT_MIN},65535]`, {
        element: 'graphics',
        attribute: 'port',
        value: String(g.port),
      });
    }
    if (g.websocket !== undefined && g.websocket > 0) s += `,websocket=${g.websocket}`;
  }
  if (g.sharePolicy) s += `,share=${g.sharePolicy}`;
  if (g.auth?.passwd !== undefined) s += ',password=on';
  if (g.powerControl) s += ',power-control=on';
  const audio = g.audioId ?? env.def.devices.audios?.[0]?.id;
  if (audio !== undefined) s += `,audiodev=audio${audio}`;
  return s;
}

export function graphicsCommandLine(g: GraphicsDef, env: DeviceBuildEnv): string[] {
  if (g.type !== 'vnc') {
    throw virtError(ErrorNumber.CONFIG_UNSUPPORTED, ErrorDomain.QEMU, `graphics type '${g.type}' is not supported by tsvirt's QEMU driver`, {
      element: 'graphics',
      attribute: 'type',
      value: g.type,
    });
  }
  const out = ['-vnc', vncArg(g, env)];
  if (g.keymap) out.push('-k', g.keymap);
  return out;
}

/** The -audiodev value of an <audio> backend. */
export function audiodevProps(a: AudioDef): QemuProps {
  const p: QemuProps = { id: `audio${a.id}`, driver: a.type === 'file' ? 'wav' : a.type === 'pulseaudio' ? 'pa' : a.type };
  if (a.type === 'file' && a.path) p.path = a.path;
  if (a.timerPeriod !== undefined) p.timer_period = a.timerPeriod;
  return p;
}

export function audioCommandLine(a: AudioDef): string[] {
  return ['-audiodev', jsonArg(audiodevProps(a))];
}
