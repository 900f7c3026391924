// Runs snippets against python-libvirt (/usr/bin/python3, libvirt 9.0) in one process and one
// connection, and reports each snippet's value or error as JSON, so API tests can compare
// tsvirt's answers with libvirt's own.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const PYTHON = '/usr/bin/python3';

export function havePythonLibvirt(): boolean {
  if (!existsSync(PYTHON)) return false;
  return spawnSync(PYTHON, ['-c', 'import libvirt'], { stdio: 'ignore' }).status === 0;
}

export type Outcome = { ok: unknown } | { code: number; domain: number; message: string };

const RUNNER = `
import json, sys, libvirt
libvirt.registerErrorHandler(lambda ctx, err: None, None)
snips = json.load(sys.stdin)
env = {'libvirt': libvirt}
out = []
for s in snips:
    try:
        v = eval(s, env) if not s.startswith('!') else exec(s[1:], env)
        out.append({'ok': v})
    except libvirt.libvirtError as e:
        out.append({'code': e.get_error_code(), 'domain': e.get_error_domain(), 'message': e.get_error_message()})
print(json.dumps(out, default=str))
`;

/** Evaluates each snippet in turn (a leading '!' makes it a statement, e.g. an assignment). */
export function runPython(snippets: string[]): Outcome[] {
  const r = spawnSync(PYTHON, ['-c', RUNNER], { input: JSON.stringify(snippets), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python-libvirt runner failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Outcome[];
}
