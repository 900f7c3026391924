// What libvirt's test driver (test:///default) fills in when it parses a domain, so that
// tsvirt's dumpxml equals `virsh -c test:///default dumpxml`: i686 as the default architecture,
// the parser features it enables, a default video model, and testnetN host interface names.
import { ErrorDomain, ErrorNumber, virtError } from '../../errors/index.js';
import type { DomainDef, DomainDriverDefaults } from '../../conf/domain/index.js';

const MAX_IFNAMES = 1024;

/** testDomainGenerateIfnames: interfaces without a target get testnet0, testnet1, … (define/create). */
export function generateTestIfnames(def: DomainDef): void {
  const nets = def.devices.interfaces;
  if (!nets) return;
  const used = new Set(nets.map((n) => n.target?.dev).filter((d): d is string => !!d));
  for (const n of nets) {
    if (n.target?.dev) continue;
    let i = 0;
    while (used.has(`testnet${i}`) && i < MAX_IFNAMES) i++;
    if (i >= MAX_IFNAMES) throw virtError(ErrorNumber.INTERNAL_ERROR, ErrorDomain.TEST, `Exceeded max iface limit ${MAX_IFNAMES}`);
    const dev = `testnet${i}`;
    used.add(dev);
    n.target = { ...(n.target ?? {}), dev };
  }
}

export const testDomainDefaults: DomainDriverDefaults = {
  features: {
    memoryHotplug: true,
    offlineVcpupin: true,
    individualVcpus: true,
    userAlias: true,
    fwAutoselect: true,
    netModelString: true,
  },
  defArch: 'i686',
  devicePostParse(dev, def) {
    // testDomainDevicesDefPostParse: a video without a model becomes cirrus (xen for PV guests)
    if (dev.kind === ('video' as string)) {
      const video = dev.def as { model?: { type?: string } };
      if (video.model && !video.model.type) {
        video.model.type = def.os.type === 'xen' || def.os.type === 'linux' ? 'xen' : def.os.arch.startsWith('ppc64') ? 'vga' : 'cirrus';
      }
    }
  },
};
