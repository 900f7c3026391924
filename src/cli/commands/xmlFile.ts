// Reading the XML file a define/create command names, with virsh's error for a missing one.
import { readFileSync } from 'node:fs';
import { strerror, errnoOf } from '../../errors/index.js';
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
