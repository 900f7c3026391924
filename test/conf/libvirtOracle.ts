// Real libvirt as the reference: runs python-libvirt against libvirt's own test driver
// (test:///default, in-process, no daemon) and returns what libvirt made of each document.
// Tests compare tsvirt's parse/format with these answers when libvirt is installed.
import { spawnSync } from 'node:child_process';

export type OracleResult = { ok: string } | { code: number; domain: number; message: string };

export interface OracleItem {
  kind: 'domain' | 'network';
  xml: string;
  /** define flags (e.g. VIR_NETWORK_DEFINE_VALIDATE = 1) */
  flags?: number;
  /** XMLDesc flags (VIR_NETWORK_XML_INACTIVE = 1) */
  descFlags?: number;
  /** also start the network and return its live XML */
  start?: boolean;
}

const SCRIPT = `
import json, sys
import libvirt
libvirt.registerErrorHandler(lambda c, e: None, None)
conn = libvirt.open('test:///default')
out = []
for it in json.load(sys.stdin):
    try:
        if it['kind'] == 'domain':
            o = conn.defineXMLFlags(it['xml'], it.get('flags', 0))
        else:
            o = conn.networkDefineXMLFlags(it['xml'], it.get('flags', 0))
        try:
            if it.get('start'):
                o.create()
            out.append({'ok': o.XMLDesc(it.get('descFlags', 0))})
        finally:
            if it.get('start') and o.isActive():
                o.destroy()
            o.undefine()
    except libvirt.libvirtError as e:
        out.append({'code': e.get_error_code(), 'domain': e.get_error_domain(), 'message': e.get_error_message()})
json.dump(out, sys.stdout)
`;

const PYTHON = '/usr/bin/python3';
let available: string | false | undefined;

/** false when libvirt can be asked, else the reason to skip. */
export function oracleSkip(): string | false {
  if (available === undefined) {
    const r = spawnSync(PYTHON, ['-c', 'import libvirt'], { stdio: 'ignore' });
    available = r.status === 0 ? false : 'needs python3-libvirt (/usr/bin/python3) for the libvirt test driver';
  }
  return available;
}

/** Asks libvirt's test driver about every item in one process. */
export function askLibvirt(items: OracleItem[]): OracleResult[] {
  const r = spawnSync(PYTHON, ['-c', SCRIPT], { input: JSON.stringify(items), encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`python-libvirt failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as OracleResult[];
}

/** A transient domain around some devices, for asking libvirt about <interface> pieces. */
export function domainWithDevices(devices: string): string {
  return `<domain type='test'><name>tsvirt-oracle</name><memory>1024</memory><os><type>hvm</type></os><devices>${devices}</devices></domain>`;
}

/**
 * The lines of libvirt's domain XML for the first <interface>, between its <mac> line and its
 * <target> line, unindented: exactly what the pieces inside an interface printed.
 */
export function interfaceBody(domainXml: string): string {
  const lines = domainXml.split('\n');
  const start = lines.findIndex((l) => l.trim().startsWith('<interface'));
  const end = lines.findIndex((l, i) => i > start && l.trim().startsWith('</interface>'));
  const body = lines.slice(start + 1, end).filter((l) => !/^\s*<(mac|source|target|alias|address|model)\b/.test(l));
  return body.map((l) => l.replace(/^ {6}/, '')).join('\n') + (body.length ? '\n' : '');
}

/** What a case expects: the formatted XML, or libvirt's error. */
export type Expect = string | { code: number; domain: number; message: string };

export interface InterfacePieceCase {
  /** The element as written (e.g. `<vlan><tag id='4096'/></vlan>`). */
  xml: string;
  /** The <interface type> libvirt needs to read the element the same way. */
  iface: 'network' | 'bridge' | 'direct';
  expect: Expect;
}

const IFACE_HEAD: Record<InterfacePieceCase['iface'], string> = {
  network: "<interface type='network'><source network='default'/>",
  bridge: "<interface type='bridge'><source bridge='br0'/>",
  direct: "<interface type='direct'><source dev='eth0' mode='vepa'/>",
};

/** Generated UUIDs differ from run to run. */
export function maskUuids(s: string): string {
  return s.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'UUID');
}

/** What libvirt's test driver made of each case, in the form of `expect`. */
export function libvirtInterfacePieces(cases: InterfacePieceCase[]): Expect[] {
  const res = askLibvirt(cases.map((c) => ({ kind: 'domain', xml: domainWithDevices(`${IFACE_HEAD[c.iface]}${c.xml}</interface>`) })));
  return res.map((r) => ('ok' in r ? interfaceBody(r.ok) : r));
}
