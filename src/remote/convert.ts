// Between the remote program's wire structs and the Driver interface's types, where they differ:
// typed parameters (a union on the wire, a flat record in the API), C strings carried in char
// arrays (with their NUL), and 64-bit counters the API keeps as numbers.
import { ErrorDomain, ErrorNumber, virtError } from '../errors/index.js';
import type { DomainInfo, NodeInfo, TypedParam } from '../drivers/driver.js';
import type * as P from './protocol.js';

export function typedParamFromWire(p: P.TypedParam): TypedParam {
  const v = p.value;
  switch (v.type) {
    case 1:
      return { field: p.field, type: 1, value: v.i };
    case 2:
      return { field: p.field, type: 2, value: v.ui };
    case 3:
      return { field: p.field, type: 3, value: v.l };
    case 4:
      return { field: p.field, type: 4, value: v.ul };
    case 5:
      return { field: p.field, type: 5, value: v.d };
    case 6:
      return { field: p.field, type: 6, value: v.b !== 0 };
    case 7:
      return { field: p.field, type: 7, value: v.s };
  }
}

export function typedParamToWire(p: TypedParam): P.TypedParam {
  switch (p.type) {
    case 1:
      return { field: p.field, value: { type: 1, i: p.value } };
    case 2:
      return { field: p.field, value: { type: 2, ui: p.value } };
    case 3:
      return { field: p.field, value: { type: 3, l: BigInt(p.value) } };
    case 4:
      return { field: p.field, value: { type: 4, ul: BigInt(p.value) } };
    case 5:
      return { field: p.field, value: { type: 5, d: p.value } };
    case 6:
      return { field: p.field, value: { type: 6, b: p.value ? 1 : 0 } };
    case 7:
      return { field: p.field, value: { type: 7, s: p.value } };
    default: {
      // libvirt's virTypedParamsSerialize: RPC error in domain NONE.
      const bad = p as { field: string; type: unknown };
      const type = String(bad.type);
      throw virtError(ErrorNumber.RPC, ErrorDomain.NONE, `unknown parameter type: ${type}`, { object: bad.field, value: type });
    }
  }
}

/** A C string from a char array: up to the first NUL. */
export function cstringFromChars(b: Buffer): string {
  const nul = b.indexOf(0);
  return b.toString('utf8', 0, nul < 0 ? b.length : nul);
}

/** A char array holding s and its NUL, as libvirt's daemon sends it. */
export function cstringToChars(s: string): Buffer {
  return Buffer.concat([Buffer.from(s, 'utf8'), Buffer.alloc(1)]);
}

/** A fixed char[n] (NODE_GET_INFO's model): s, NUL-padded to n; too long is cut to n-1. */
function cstringToFixedChars(s: string, n: number): Buffer {
  const out = Buffer.alloc(n);
  Buffer.from(s, 'utf8').copy(out, 0, 0, n - 1);
  return out;
}

const num = (b: bigint): number => Number(b);

export function domainInfoFromWire(r: P.DomainGetInfoRet): DomainInfo {
  return { state: r.state, maxMem: num(r.maxMem), memory: num(r.memory), nrVirtCpu: r.nrVirtCpu, cpuTime: r.cpuTime };
}

export function domainInfoToWire(i: DomainInfo): P.DomainGetInfoRet {
  return { state: i.state, maxMem: BigInt(i.maxMem), memory: BigInt(i.memory), nrVirtCpu: i.nrVirtCpu, cpuTime: BigInt(i.cpuTime) };
}

export function nodeInfoFromWire(r: P.NodeGetInfoRet): NodeInfo {
  return {
    model: cstringFromChars(r.model),
    memory: num(r.memory),
    cpus: r.cpus,
    mhz: r.mhz,
    nodes: r.nodes,
    sockets: r.sockets,
    cores: r.cores,
    threads: r.threads,
  };
}

export function nodeInfoToWire(i: NodeInfo): P.NodeGetInfoRet {
  return {
    model: cstringToFixedChars(i.model, 32),
    memory: BigInt(i.memory),
    cpus: i.cpus,
    mhz: i.mhz,
    nodes: i.nodes,
    sockets: i.sockets,
    cores: i.cores,
    threads: i.threads,
  };
}
