// <panic> on QEMU's command line: model 'isa' is QEMU's pvpanic ISA device (its I/O port from an
// ISA address as `ioport`, there is no `id`); the guest's pvpanic driver writes to it when the
// kernel panics and QEMU reports GUEST_PANICKED. The other models are not devices of their own.
import type { PanicDef } from '../../../conf/domain/panic.js';
import type { DomainDef } from '../../../conf/domain/index.js';
import { ErrorDomain, ErrorNumber, virtError } from '../../../errors/index.js';
import type { QemuCaps } from '../capabilities.js';
import { deviceArgs, type QemuProps } from './qemuProps.js';

function unsupported(detail: string, attribute?: string, value?: string): Error {
  return virtError(ErrorNumber.CONFIG_UNSUPPORTED, ErrorDomain.QEMU, detail, { element: 'panic', attribute, value });
}

const X86 = new Set(['i686', 'x86_64']);

/** The model a <panic> without one gets (qemuDomainDevicePanicDefPostParse): isa on x86. */
export function defaultPanicModel(def: DomainDef): PanicDef['model'] {
  const arch = def.os.arch;
  if (arch === 's390' || arch === 's390x') return 's390';
  if ((arch === 'ppc64' || arch === 'ppc64le') && def.os.machine?.startsWith('pseries')) return 'pseries';
  return 'isa';
}

/** qemuValidateDomainDefPanic, for one device: where each model can be, with which address. */
export function validatePanic(p: PanicDef, def: DomainDef, caps: QemuCaps | undefined): void {
  const addrType = p.address?.type;
  switch (p.model ?? defaultPanicModel(def)) {
    case 's390':
      if (def.os.arch !== 's390' && def.os.arch !== 's390x') throw unsupported("only S390 guests support panic device of model 's390'", 'model', 's390');
      if (addrType) throw unsupported("setting the panic device address is not supported for model 's390'");
      return;
    case 'hyperv':
      if (!X86.has(def.os.arch)) throw unsupported("only i686 and x86_64 guests support panic device of model 'hyperv'", 'model', 'hyperv');
      if (addrType) throw unsupported("setting the panic device address is not supported for model 'hyperv'");
      return;
    case 'pseries':
      if (!def.os.machine?.startsWith('pseries')) throw unsupported("only pSeries guests support panic device of model 'pseries'", 'model', 'pseries');
      if (addrType) throw unsupported("setting the panic device address is not supported for model 'pseries'");
      return;
    case 'isa':
      if (caps && !caps.deviceTypes.includes('pvpanic')) throw unsupported('the QEMU binary does not support the ISA panic device', 'model', 'isa');
      if (addrType && addrType !== 'isa') throw unsupported('panic is supported only with ISA address type');
      return;
  }
}

/** The -device of a panic device, or undefined for models that are no device. */
export function panicDeviceProps(p: PanicDef): QemuProps | undefined {
  if (p.model !== 'isa') return undefined;
  const props: QemuProps = { driver: 'pvpanic' };
  if (p.address?.type === 'isa' && p.address.iobase !== undefined) props.ioport = p.address.iobase;
  return props;
}

export function panicCommandLine(p: PanicDef): string[] {
  if (p.model === 'hyperv') {
    // libvirt turns it into the hv-crash CPU feature; tsvirt's -cpu does not write Hyper-V features
    throw unsupported("panic model 'hyperv' is not supported by tsvirt's QEMU driver", 'model', 'hyperv');
  }
  const props = panicDeviceProps(p);
  return props ? deviceArgs(props) : [];
}
