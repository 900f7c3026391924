#!/usr/bin/env node
// Writes src/remote/protocol.ts: the remote program's types, as declarations in src/rpc/xdr.ts's
// schema form, and its procedure table, from a libvirt source tree (the protocol's facts:
// names, numbers, field orders and types; nothing else is carried over).
//
//   node scripts/rpcgen.mjs /path/to/libvirt-9.0.0 > src/remote/protocol.ts
//
// From the same tree it also records, per procedure, the public API function libvirt's daemon
// calls (for "read only access prevents virDomainDestroy" and "not supported: virX" messages),
// the error domain that function's file reports in, and whether it refuses read-only
// connections (the function body calls virCheckReadOnlyGoto).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = process.argv[2];
if (!root) {
  console.error('usage: rpcgen.mjs LIBVIRT_SOURCE_DIR');
  process.exit(2);
}
const xfile = join(root, 'src/remote/remote_protocol.x');
const text = readFileSync(xfile, 'utf8');

// Constants the .x takes from C headers.
const external = {
  VIR_UUID_BUFLEN: 16,
  VIR_SECURITY_MODEL_BUFLEN: 257,
  VIR_SECURITY_LABEL_BUFLEN: 4097,
  VIR_SECURITY_DOI_BUFLEN: 257,
  VIR_TYPED_PARAM_INT: 1,
  VIR_TYPED_PARAM_UINT: 2,
  VIR_TYPED_PARAM_LLONG: 3,
  VIR_TYPED_PARAM_ULLONG: 4,
  VIR_TYPED_PARAM_DOUBLE: 5,
  VIR_TYPED_PARAM_BOOLEAN: 6,
  VIR_TYPED_PARAM_STRING: 7,
};

// ---- procedure annotations (kept from the comments before each enum member) ----
const annotations = new Map();
{
  const enumStart = text.indexOf('enum remote_procedure');
  const body = text.slice(enumStart);
  const re = /\/\*\*([\s\S]*?)\*\/\s*(REMOTE_PROC_\w+)\s*=\s*(\d+)/g;
  for (let m; (m = re.exec(body)); ) {
    const a = {};
    for (const line of m[1].split('\n')) {
      const am = /@(\w+):\s*(.*?)\s*$/.exec(line);
      if (am) (a[am[1]] ??= []).push(am[2]);
    }
    annotations.set(m[2], a);
  }
}

// ---- tokenizer ----
const stripped = text
  .replace(/\/\*[\s\S]*?\*\//g, ' ')
  .split('\n')
  .filter((l) => !l.startsWith('%'))
  .join('\n');
const tokens = stripped.match(/0x[0-9a-fA-F]+|-?\d+|[A-Za-z_][A-Za-z0-9_]*|[{}();,=<>[\]*:]/g);
let ti = 0;
const peek = () => tokens[ti];
const next = () => tokens[ti++];
const expect = (t) => {
  const got = next();
  if (got !== t) throw new Error(`expected '${t}', got '${got}' at token ${ti}`);
};

const consts = new Map(Object.entries(external));
function value(tok) {
  if (/^-?\d+$/.test(tok) || /^0x/.test(tok)) return Number(tok);
  if (!consts.has(tok)) throw new Error(`unknown constant ${tok}`);
  return consts.get(tok);
}

// type spec → { base: 'int'|... } or { ref: name }
function typeSpec() {
  let t = next();
  if (t === 'unsigned') {
    const n = peek();
    if (['int', 'hyper', 'char', 'short', 'long'].includes(n)) {
      next();
      return { base: `u${n === 'long' ? 'int' : n}` };
    }
    return { base: 'uint' };
  }
  if (t === 'struct' || t === 'enum' || t === 'union') t = next();
  if (['int', 'hyper', 'char', 'short', 'bool', 'double', 'float', 'string', 'opaque', 'void'].includes(t)) return { base: t };
  if (t === 'long') return { base: 'int' };
  return { ref: t };
}

// declaration → { name, type, kind: 'plain'|'fixed'|'var'|'opt', size }
function declaration() {
  const type = typeSpec();
  if (type.base === 'void') return { name: null, type, kind: 'void' };
  if (peek() === '*') {
    next();
    return { name: next(), type, kind: 'opt' };
  }
  const name = next();
  if (peek() === '[') {
    next();
    const size = value(next());
    expect(']');
    return { name, type, kind: 'fixed', size };
  }
  if (peek() === '<') {
    next();
    let size = null;
    if (peek() !== '>') size = value(next());
    expect('>');
    return { name, type, kind: 'var', size };
  }
  return { name, type, kind: 'plain' };
}

const defs = []; // in file order
while (ti < tokens.length) {
  const t = next();
  if (t === 'const') {
    const name = next();
    expect('=');
    consts.set(name, value(next()));
    expect(';');
    defs.push({ what: 'const', name, value: consts.get(name) });
  } else if (t === 'typedef') {
    const d = declaration();
    expect(';');
    defs.push({ what: 'typedef', name: d.name, decl: d });
  } else if (t === 'struct') {
    const name = next();
    expect('{');
    const fields = [];
    while (peek() !== '}') {
      fields.push(declaration());
      expect(';');
    }
    expect('}');
    expect(';');
    defs.push({ what: 'struct', name, fields });
  } else if (t === 'enum') {
    const name = next();
    expect('{');
    const members = [];
    while (peek() !== '}') {
      const m = next();
      expect('=');
      const v = value(next());
      consts.set(m, v);
      members.push([m, v]);
      if (peek() === ',') next();
    }
    expect('}');
    expect(';');
    defs.push({ what: 'enum', name, members });
  } else if (t === 'union') {
    const name = next();
    expect('switch');
    expect('(');
    const dtype = typeSpec();
    const dname = next();
    expect(')');
    expect('{');
    const arms = [];
    let def;
    while (peek() !== '}') {
      const k = next();
      const cases = [];
      if (k === 'case') {
        cases.push(value(next()));
        expect(':');
        while (peek() === 'case') {
          next();
          cases.push(value(next()));
          expect(':');
        }
        const d = declaration();
        expect(';');
        arms.push({ cases, decl: d });
      } else if (k === 'default') {
        expect(':');
        def = declaration();
        expect(';');
      } else throw new Error(`bad union member ${k}`);
    }
    expect('}');
    expect(';');
    defs.push({ what: 'union', name, dtype, dname, arms, def });
  } else {
    throw new Error(`unexpected token '${t}' at ${ti}`);
  }
}

// ---- names ----
const reserved = new Set(['String', 'Error', 'Object', 'Number', 'Boolean', 'Symbol', 'Array', 'Function', 'Date', 'Map', 'Set', 'Promise']);
function tsName(x) {
  const n = x
    .replace(/^remote_/, '')
    .split('_')
    .filter(Boolean)
    .map((p) => p[0].toUpperCase() + p.slice(1))
    .join('');
  return reserved.has(n) ? `Remote${n}` : n;
}

const typedefs = new Map(defs.filter((d) => d.what === 'typedef').map((d) => [d.name, d.decl]));
const enums = new Set(defs.filter((d) => d.what === 'enum').map((d) => d.name));
const structs = new Set(defs.filter((d) => d.what === 'struct').map((d) => d.name));

const baseCodec = { int: 'x.int', uint: 'x.uint', hyper: 'x.hyper', uhyper: 'x.uhyper', bool: 'x.bool', double: 'x.double', float: 'x.float', char: 'x.char', uchar: 'x.uchar', short: 'x.short', ushort: 'x.ushort' };
const baseTs = { int: 'number', uint: 'number', hyper: 'bigint', uhyper: 'bigint', bool: 'boolean', double: 'number', float: 'number', char: 'number', uchar: 'number', short: 'number', ushort: 'number' };

function elemCodec(type) {
  if (type.base) return baseCodec[type.base];
  if (enums.has(type.ref)) return 'x.enumeration';
  return tsName(type.ref);
}
function elemTs(type) {
  if (type.base) return baseTs[type.base];
  if (enums.has(type.ref)) return 'number';
  return tsName(type.ref);
}
const maxArg = (size) => (size === null || size === undefined ? '' : String(size));

function declCodec(d, isTypedefOfUuid = false) {
  const { type, kind, size } = d;
  if (type.base === 'string') return `x.string(${maxArg(size)})`;
  if (type.base === 'opaque') {
    if (kind === 'fixed') return isTypedefOfUuid ? 'x.uuid' : `x.opaqueFixed(${size})`;
    return `x.opaque(${maxArg(size)})`;
  }
  if (type.base === 'char' || type.base === 'uchar') {
    const u = type.base === 'uchar' ? ', true' : '';
    if (kind === 'var') return `x.charArray(${maxArg(size) || '0xffffffff'}${u})`;
    if (kind === 'fixed') return `x.charFixed(${size}${u})`;
  }
  const e = elemCodec(type);
  if (kind === 'plain') return e;
  if (kind === 'opt') return `x.optional(${e})`;
  if (kind === 'fixed') return `x.fixedArray(${e}, ${size})`;
  if (kind === 'var') return `x.array(${e}${size === null ? '' : `, ${size}`})`;
  throw new Error(`bad decl ${JSON.stringify(d)}`);
}
function declTs(d, isTypedefOfUuid = false) {
  const { type, kind } = d;
  if (type.base === 'string') return 'string';
  if (type.base === 'opaque') return isTypedefOfUuid ? 'string' : 'Buffer';
  if ((type.base === 'char' || type.base === 'uchar') && (kind === 'var' || kind === 'fixed')) return 'Buffer';
  const e = elemTs(type);
  if (kind === 'plain') return e;
  if (kind === 'opt') return `${e} | null`;
  return `${e}[]`;
}

// ---- API facts from libvirt's public API sources ----
const fromDomain = {
  VIR_FROM_NONE: 0, VIR_FROM_DOMAIN: 20, VIR_FROM_NETWORK: 19, VIR_FROM_STORAGE: 18, VIR_FROM_INTERFACE: 26,
  VIR_FROM_NODEDEV: 22, VIR_FROM_SECRET: 30, VIR_FROM_NWFILTER: 33, VIR_FROM_DOMAIN_SNAPSHOT: 35,
  VIR_FROM_STREAMS: 38, VIR_FROM_DOMAIN_CHECKPOINT: 69,
};
const apis = new Map(); // lowercase name → { name, domain, readonly }
for (const f of readdirSync(join(root, 'src')).filter((n) => /^libvirt(-[a-z-]+)?\.c$/.test(n))) {
  const src = readFileSync(join(root, 'src', f), 'utf8');
  const dm = /#define VIR_FROM_THIS (\w+)/.exec(src);
  const domain = dm ? fromDomain[dm[1]] : 0;
  if (domain === undefined) throw new Error(`unknown ${dm[1]} in ${f}`);
  const re = /^(?:[a-z]\w* \**)?(vir[A-Za-z0-9]+)\([^;]*?\)\s*\{([\s\S]*?)^\}/gm;
  for (let m; (m = re.exec(src)); ) {
    apis.set(m[1].toLowerCase(), { name: m[1], domain, readonly: m[2].includes('virCheckReadOnlyGoto') });
  }
}
function apiOf(procName) {
  const base = procName.replace(/^REMOTE_PROC_/, '');
  const candidates = [base, base.replace('_CALLBACK_', '_')];
  for (const c of candidates) {
    const a = apis.get(`vir${c.replace(/_/g, '').toLowerCase()}`);
    if (a) return a;
  }
  return null;
}

// ---- emit ----
const out = [];
const w = (s = '') => out.push(s);
w('// Generated by scripts/rpcgen.mjs from libvirt 9.0.0\'s src/remote/remote_protocol.x and public API');
w('// sources. Do not edit; re-run the generator. Types are named after the .x names without');
w('// `remote_` (remote_nonnull_domain → NonnullDomain), fields keep the .x spelling.');
w("import * as x from '../rpc/xdr.js';");
w("import type { Codec } from '../rpc/xdr.js';");
w();

for (const d of defs) {
  if (d.what === 'const') {
    w(`export const ${d.name} = ${d.value};`);
  } else if (d.what === 'typedef') {
    const n = tsName(d.name);
    const isUuid = d.name === 'remote_uuid';
    w(`export type ${n} = ${declTs(d.decl, isUuid)};`);
    w(`export const ${n}: Codec<${n}> = ${declCodec(d.decl, isUuid)};`);
  } else if (d.what === 'enum') {
    if (d.name === 'remote_procedure') continue;
    const n = tsName(d.name);
    w(`export const ${n} = {`);
    for (const [m, v] of d.members) w(`  ${m}: ${v},`);
    w('} as const;');
  } else if (d.what === 'struct') {
    const n = tsName(d.name);
    w(`export interface ${n} {`);
    for (const f of d.fields) w(`  ${f.name}: ${declTs(f)};`);
    w('}');
    w(`export const ${n}: Codec<${n}> = x.struct<${n}>([`);
    for (const f of d.fields) w(`  ['${f.name}', ${declCodec(f)}],`);
    w(']);');
  } else if (d.what === 'union') {
    const n = tsName(d.name);
    const alts = d.arms.flatMap((a) => a.cases.map((c) => `{ ${d.dname}: ${c}${a.decl.name ? `; ${a.decl.name}: ${declTs(a.decl)}` : ''} }`));
    if (d.def) alts.push(`{ ${d.dname}: number${d.def.name ? `; ${d.def.name}: ${declTs(d.def)}` : ''} }`);
    w(`export type ${n} =\n  | ${alts.join('\n  | ')};`);
    w(`export const ${n}: Codec<${n}> = x.union<${n}>('${d.dname}', new Map<number, x.Arm>([`);
    for (const a of d.arms) for (const c of a.cases) w(`  [${c}, ${a.decl.name ? `['${a.decl.name}', ${declCodec(a.decl)}]` : 'null'}],`);
    w(`])${d.def ? `, ${d.def.name ? `['${d.def.name}', ${declCodec(d.def)}]` : 'null'}` : ''});`);
  }
  w();
}

// Procedure table.
const procEnum = defs.find((d) => d.what === 'enum' && d.name === 'remote_procedure');
w('/** REMOTE_PROC_* numbers by their names without the prefix. */');
w('export const Procedure = {');
for (const [m, v] of procEnum.members) w(`  ${m.replace(/^REMOTE_PROC_/, '')}: ${v},`);
w('} as const;');
w('export type Procedure = (typeof Procedure)[keyof typeof Procedure];');
w();
w('/** Argument, reply and message body types of each procedure, by number. */');
w('export interface ProcedureTypes {');
const rows = [];
for (const [m, v] of procEnum.members) {
  const base = m.replace(/^REMOTE_PROC_/, '').toLowerCase();
  const args = structs.has(`remote_${base}_args`) ? tsName(`remote_${base}_args`) : null;
  const ret = structs.has(`remote_${base}_ret`) ? tsName(`remote_${base}_ret`) : null;
  const msg = structs.has(`remote_${base}_msg`) ? tsName(`remote_${base}_msg`) : null;
  const a = annotations.get(m) ?? {};
  const api = apiOf(m);
  rows.push({ m, v, args, ret, msg, a, api });
  w(`  ${v}: { args: ${args ?? msg ?? 'void'}; ret: ${ret ?? 'void'} }; // ${m.replace(/^REMOTE_PROC_/, '')}`);
}
w('}');
w();
w('export interface ProcedureInfo {');
w('  readonly proc: number;');
w("  /** 'DOMAIN_GET_XML_DESC' */");
w('  readonly name: string;');
w('  /** Body of a CALL (or of a MESSAGE for event procedures). */');
w('  readonly args: Codec<any>;');
w('  /** Body of a successful REPLY. */');
w('  readonly ret: Codec<any>;');
w('  /** An asynchronous MESSAGE (event) rather than a call. */');
w('  readonly message: boolean;');
w("  /** The public API function libvirt's daemon calls for it ('virDomainDestroy'), or null. */");
w('  readonly api: string | null;');
w("  /** Error domain of that function's file (OPERATION_DENIED / NO_SUPPORT are reported in it). */");
w('  readonly apiDomain: number;');
w('  /** The function refuses read-only connections. */');
w('  readonly readonlyDenied: boolean;');
w("  readonly priority: 'high' | 'low';");
w('  /** Opens a stream that carries data from the server (read) or to it (write). */');
w("  readonly stream: 'read' | 'write' | null;");
w('}');
w();
w('const p = (proc: number, name: string, args: Codec<any>, ret: Codec<any>, message: boolean, api: string | null, apiDomain: number, readonlyDenied: boolean, priority: \'high\' | \'low\', stream: \'read\' | \'write\' | null): ProcedureInfo =>');
w('  ({ proc, name, args, ret, message, api, apiDomain, readonlyDenied, priority, stream });');
w();
w('/** Every procedure of the remote program, indexed by number (index 0 is empty). */');
w('export const procedures: ReadonlyArray<ProcedureInfo | undefined> = [');
w('  undefined,');
let expectNum = 1;
for (const r of rows) {
  if (r.v !== expectNum) throw new Error(`procedure numbers not dense at ${r.v}`);
  expectNum++;
  const stream = r.a.readstream ? "'read'" : r.a.writestream ? "'write'" : 'null';
  const prio = r.a.priority?.[0] === 'high' ? "'high'" : "'low'";
  const apiName = r.msg ? 'null' : r.api ? `'${r.api.name}'` : 'null';
  w(
    `  p(${r.v}, '${r.m.replace(/^REMOTE_PROC_/, '')}', ${r.args ?? r.msg ?? 'x.xdrVoid'}, ${r.ret ?? 'x.xdrVoid'}, ${r.msg ? 'true' : 'false'}, ${apiName}, ${r.api?.domain ?? 0}, ${r.api && !r.msg ? r.api.readonly : false}, ${prio}, ${stream}),`,
  );
}
w('];');
process.stdout.write(out.join('\n') + '\n');
