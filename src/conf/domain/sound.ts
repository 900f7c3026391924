// <sound> (emulated sound cards) and <audio> (the host audio backends they play into).
import type { XmlElement } from '../xml/xmlTree.js';
import type { XmlWriter } from '../xml/xmlWriter.js';
import type { DeviceFormatEnv, DeviceParseEnv } from './deviceEnv.js';
import { formatDeviceInfo, parseDeviceInfo, type DeviceInfo } from './deviceInfo.js';
import { unsupported, xmlError, yesNo } from './parseContext.js';

export const SOUND_MODELS = ['sb16', 'es1370', 'pcspk', 'ac97', 'ich6', 'ich9', 'usb', 'ich7'] as const;
const CODEC_TYPES = ['duplex', 'micro', 'output'] as const;
export const AUDIO_TYPES = ['none', 'alsa', 'coreaudio', 'jack', 'oss', 'pulseaudio', 'sdl', 'spice', 'file', 'dbus'] as const;
const SDL_DRIVERS = ['', 'esd', 'alsa', 'arts', 'pulseaudio'] as const;

export interface SoundDef extends DeviceInfo {
  model: (typeof SOUND_MODELS)[number];
  codecs?: (typeof CODEC_TYPES)[number][];
  audioId?: number;
}

export interface AudioDef {
  id: number;
  type: (typeof AUDIO_TYPES)[number];
  timerPeriod?: number;
  /** oss */
  tryMMap?: boolean;
  exclusive?: boolean;
  dspPolicy?: number;
  /** pulseaudio */
  serverName?: string;
  /** sdl */
  driver?: string;
  /** file */
  path?: string;
}

export function parseSound(env: DeviceParseEnv, el: XmlElement): SoundDef {
  const { ctx } = env;
  const def: SoundDef = { model: ctx.enumProp(el, 'model', SOUND_MODELS, { required: true })! };
  if (['ich6', 'ich7', 'ich9'].includes(def.model)) {
    const codecs = ctx.children(el, 'codec').map((c) => {
      const t = ctx.attr(c, 'type');
      if (!t || !(CODEC_TYPES as readonly string[]).includes(t)) throw unsupported(`unknown codec type '${t ?? '(null)'}'`);
      return t as (typeof CODEC_TYPES)[number];
    });
    if (codecs.length) def.codecs = codecs;
  }
  const audio = ctx.child(el, 'audio');
  if (audio) def.audioId = ctx.uintProp(audio, 'id', 10, { required: true, nonzero: true })!;
  parseDeviceInfo(ctx, el, def, { userAlias: env.userAlias });
  return def;
}

export function formatSound(w: XmlWriter, def: SoundDef, _env: DeviceFormatEnv): void {
  w.element('sound', { model: def.model }, (c) => {
    for (const t of def.codecs ?? []) c.empty('codec', { type: t });
    if (def.audioId) c.empty('audio', { id: def.audioId });
    formatDeviceInfo(c, def);
  });
}

export function parseAudio(env: DeviceParseEnv, el: XmlElement): AudioDef {
  const { ctx } = env;
  const type = ctx.enumProp(el, 'type', AUDIO_TYPES, { required: true })!;
  const id = ctx.uintProp(el, 'id', 10, { required: true, nonzero: true })!;
  const def: AudioDef = { id, type };
  const tp = ctx.uintProp(el, 'timerPeriod', 10, { nonzero: true });
  if (tp) def.timerPeriod = tp;
  switch (type) {
    case 'oss': {
      const mm = ctx.boolProp(el, 'tryMMap');
      const ex = ctx.boolProp(el, 'exclusive');
      const dp = ctx.intProp(el, 'dspPolicy');
      if (mm !== undefined) def.tryMMap = mm;
      if (ex !== undefined) def.exclusive = ex;
      if (dp !== undefined) {
        if (dp < 0) throw xmlError(`cannot parse 'dspPolicy' value '${dp}'`);
        def.dspPolicy = dp;
      }
      break;
    }
    case 'pulseaudio': {
      const sn = ctx.attr(el, 'serverName');
      if (sn !== undefined) def.serverName = sn;
      break;
    }
    case 'sdl': {
      const d = ctx.enumProp(el, 'driver', SDL_DRIVERS, { nonzero: true });
      if (d) def.driver = d;
      break;
    }
    case 'file': {
      const p = ctx.attr(el, 'path');
      if (p !== undefined) def.path = p;
      break;
    }
    default:
      break;
  }
  return def;
}

export function formatAudio(w: XmlWriter, def: AudioDef, _env: DeviceFormatEnv): void {
  w.element('audio', {
    id: def.id,
    type: def.type,
    timerPeriod: def.timerPeriod,
    tryMMap: yesNo(def.tryMMap),
    exclusive: yesNo(def.exclusive),
    dspPolicy: def.dspPolicy,
    serverName: def.serverName,
    driver: def.driver,
    path: def.path,
  });
}

/** virDomainEnsureAudioID. */
export function ensureAudioId(audios: AudioDef[] | undefined, id: number | undefined): void {
  if (!id) return;
  if (!(audios ?? []).some((a) => a.id === id)) throw xmlError(`no audio device with ID ${id}`);
}

export function validateAudio(a: AudioDef, audios: AudioDef[]): void {
  if (audios.some((o) => o !== a && o.id === a.id)) throw xmlError(`audio ID ${a.id} is used multiple times`);
}
