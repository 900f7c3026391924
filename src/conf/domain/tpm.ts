// <tpm>: a TPM for the guest (host passthrough, swtpm emulator, or an external socket).
import type { XmlElement } from '../xml/xmlTree.js';
import type { XmlWriter } from '../xml/xmlWriter.js';
import { normalizeUuid } from '../uuid.js';
import type { DeviceFormatEnv, DeviceParseEnv } from './deviceEnv.js';
import { formatDeviceInfo, parseDeviceInfo, type DeviceInfo } from './deviceInfo.js';
import { CHR_TYPES, parseChrSource, type ChrSourceDef, type ChrType } from './chardev.js';
import { internalError, unsupported, xmlError } from './parseContext.js';

export const TPM_MODELS = ['default', 'tpm-tis', 'tpm-crb', 'tpm-spapr', 'spapr-tpm-proxy'] as const;
export const TPM_BACKENDS = ['passthrough', 'emulator', 'external'] as const;
const TPM_VERSIONS = ['default', '1.2', '2.0'] as const;
const PCR_BANKS = ['sha1', 'sha256', 'sha384', 'sha512'] as const;

export interface TpmDef extends DeviceInfo {
  model?: Exclude<(typeof TPM_MODELS)[number], 'default'>;
  backend: {
    type: (typeof TPM_BACKENDS)[number];
    /** passthrough: host device, /dev/tpm0 by default. */
    devicePath?: string;
    /** emulator */
    version?: '1.2' | '2.0';
    persistentState?: boolean;
    encryptionSecret?: string;
    activePcrBanks?: (typeof PCR_BANKS)[number][];
    /** external */
    source?: ChrSourceDef;
  };
}

export function parseTpm(env: DeviceParseEnv, el: XmlElement): TpmDef {
  const { ctx } = env;
  const model = ctx.enumProp(el, 'model', TPM_MODELS, { nonzero: true });
  const backends = ctx.children(el, 'backend');
  if (backends.length > 1) throw xmlError('only one TPM backend is supported');
  if (backends.length === 0) throw xmlError('missing TPM device backend');
  const be = backends[0]!;
  const type = ctx.enumProp(be, 'type', TPM_BACKENDS, { required: true })!;
  const def: TpmDef = { backend: { type } };
  if (model) def.model = model as TpmDef['model'];
  switch (type) {
    case 'passthrough': {
      const dev = ctx.child(be, 'device');
      def.backend.devicePath = (dev ? ctx.attr(dev, 'path') : undefined) || '/dev/tpm0';
      break;
    }
    case 'emulator': {
      const v = ctx.enumProp(be, 'version', TPM_VERSIONS, { nonzero: true });
      if (v) def.backend.version = v as '1.2' | '2.0';
      const enc = ctx.child(be, 'encryption');
      const secret = enc ? ctx.attr(enc, 'secret') : undefined;
      if (secret) {
        const u = normalizeUuid(secret);
        if (!u) throw internalError(`Unable to parse secret uuid '${secret}'`);
        def.backend.encryptionSecret = u;
      }
      const ps = ctx.attr(be, 'persistent_state');
      if (ps !== undefined) {
        if (ps !== 'yes' && ps !== 'no') throw internalError("Invalid persistent_state value, either 'yes' or 'no'");
        def.backend.persistentState = ps === 'yes';
      }
      const pcr = ctx.child(be, 'active_pcr_banks');
      if (pcr) {
        const banks = ctx.children(pcr).map((b) => {
          if (!(PCR_BANKS as readonly string[]).includes(b.name)) throw unsupported(`Unsupported PCR banks '${b.name}'`);
          return b.name as (typeof PCR_BANKS)[number];
        });
        def.backend.activePcrBanks = PCR_BANKS.filter((b) => banks.includes(b));
      }
      break;
    }
    case 'external': {
      const s = ctx.child(be, 'source');
      const st = s ? ctx.attr(s, 'type') : undefined;
      if (!st) throw xmlError('missing external TPM backend type');
      if (!(CHR_TYPES as readonly string[]).includes(st)) throw unsupported(`unknown backend type '${st}' for external TPM`);
      const src: ChrSourceDef = { type: st as ChrType };
      parseChrSource(ctx, be, src);
      def.backend.source = src;
      break;
    }
  }
  parseDeviceInfo(ctx, el, def, { userAlias: env.userAlias });
  return def;
}

export function formatTpm(w: XmlWriter, def: TpmDef, _env: DeviceFormatEnv): void {
  const b = def.backend;
  w.element('tpm', { model: def.model }, (c) => {
    c.element(
      'backend',
      {
        type: b.type,
        version: b.type === 'emulator' ? b.version : undefined,
        persistent_state: b.type === 'emulator' && b.persistentState ? 'yes' : undefined,
      },
      (bc) => {
        if (b.type === 'passthrough') bc.empty('device', { path: b.devicePath });
        if (b.type === 'emulator') {
          if (b.encryptionSecret) bc.empty('encryption', { secret: b.encryptionSecret });
          if (b.activePcrBanks) bc.element('active_pcr_banks', undefined, (p) => b.activePcrBanks!.forEach((x) => p.empty(x)));
        }
        if (b.type === 'external' && b.source?.type === 'unix') bc.empty('source', { type: 'unix', mode: 'connect', path: b.source.path });
      },
    );
    formatDeviceInfo(c, def);
  });
}

/** virDomainTPMDevValidate. */
export function validateTpm(def: TpmDef): void {
  const b = def.backend;
  if (b.type === 'emulator' && b.activePcrBanks && b.version !== '2.0') throw xmlError("<active_pcr_banks/> requires TPM version '2.0'");
  if (b.type === 'external') {
    if (b.source?.type !== 'unix') throw xmlError("only source type 'unix' is supported for external TPM device");
    if (b.source.mode === 'bind') throw xmlError("only 'client' mode is supported for external TPM device");
    if (!b.source.path) throw xmlError('missing socket path for external TPM device');
  }
}
