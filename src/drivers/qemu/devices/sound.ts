// <sound> on QEMU's command line: the sound card, with its HDA codecs for ich6/ich9, playing
// into the <audio> backend it names (or the first).
import type { SoundDef } from '../../../conf/domain/sound.js';
import { ErrorDomain, ErrorNumber, virtError } from '../../../errors/index.js';
import type { DeviceBuildEnv } from '../commandLineContext.js';
import { addressProps, aliasOf, deviceArgs, type QemuProps } from './qemuProps.js';

const DRIVERS: Record<string, string> = {
  ich6: 'intel-hda',
  ich9: 'ich9-intel-hda',
  ac97: 'AC97',
  es1370: 'ES1370',
  sb16: 'sb16',
  usb: 'usb-audio',
};

export function soundCommandLine(s: SoundDef, env: DeviceBuildEnv): string[] {
  const driver = DRIVERS[s.model];
  if (!driver) {
    throw virtError(ErrorNumber.CONFIG_UNSUPPORTED, ErrorDomain.QEMU, `sound card model '${s.model}' is not supported by tsvirt's QEMU driver`, {
      element: 'sound',
    });
  }
  const id = aliasOf(s, 'sound');
  const audio = `audio${s.audioId ?? env.def.devices.audios?.[0]?.id ?? 1}`;
  const hda = s.model === 'ich6' || s.model === 'ich9';
  const p: QemuProps = { driver, id };
  if (!hda) p.audiodev = audio;
  Object.assign(p, addressProps(env.def, s));
  const out = deviceArgs(p);
  if (hda) {
    const codecs = s.codecs?.length ? s.codecs : ['duplex'];
    codecs.forEach((c, i) => {
      out.push(...deviceArgs({ driver: `hda-${c}`, id: `${id}-codec${i}`, bus: `${id}.0`, cad: i, audiodev: audio }));
    });
  }
  return out;
}
