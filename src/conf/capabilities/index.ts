// Host capabilities and domain capabilities XML: typed data and libvirt's formatting.
export * from './capabilities.js';
export * from './cpuDef.js';
export * from './domainCapabilities.js';
export * from './capabilitiesParse.js';
