// Reading the XML file a define/create command names, with virsh's error for a missing one, and
// the commands that do nothing more than submit that file.
import { readFileSync } from 'node:fs';
import type { Connection } from '../../api/index.js';
import { strerror, errnoOf } from '../../errors/index.js';
import type { CommandDef } from '../commandDef.js';
import type { Shell } from '../shell.js';

/** The file's text, or undefined after printing virsh's "Failed to open file" error. */
export function readXmlFile(sh: Shell, path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const errno = errnoOf(e);
    sh.error(`Failed to open file '${path}': ${errno !== undefined ? strerror(errno) : String(e)}`);
    return undefined;
  }
}

/**
 * A command that defines or creates an object from an XML file, with an optional --validate
 * (define, net-define, net-create): the file is read, `submit` gets its text, and virsh's
 * message follows (`done`), or "Failed to <verb> <object> from FILE" and libvirt's error.
 */
export function xmlFileCommand(spec: {
  name: string;
  help: string;
  desc: string;
  /** 'domain', 'network': in the option help and the failure message. */
  object: string;
  verb: string;
  submit(conn: Connection, xml: string, validate: boolean): Promise<{ getName(): string }>;
  /** The success line, without its newline. */
  done(name: string, file: string): string;
}): CommandDef {
  return {
    name: spec.name,
    help: spec.help,
    desc: spec.desc,
    opts: [
      { name: 'file', type: 'data', required: true, help: `file containing an XML ${spec.object} description` },
      { name: 'validate', type: 'bool', help: 'validate the XML against the schema' },
    ],
    async run(sh, cmd) {
      const file = sh.optString(cmd, 'file')!;
      const xml = readXmlFile(sh, file);
      if (xml === undefined) return false;
      try {
        const obj = await spec.submit(sh.conn, xml, sh.bool(cmd, 'validate'));
        sh.printExtra(`${spec.done(obj.getName(), file)}\n`);
        return true;
      } catch (e) {
        return sh.fail(`Failed to ${spec.verb} ${spec.object} from ${file}`, e);
      }
    },
  };
}
