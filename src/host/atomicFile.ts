// Persisted state is written atomically: a crash leaves either the old file or the new one,
// never a torn one (temp file in the same directory, fsync, rename, fsync of the directory).
import { constants, promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';

// Makes each temp name of this process unique, so writes of one path that overlap (the last
// rename wins) never collide on O_EXCL.
let tmpSerial = 0;

export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${(tmpSerial++).toString(36)}.tmp`);
  const fh = await fs.open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close();
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  try {
    await fs.rename(tmp, path);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await syncDir(dir);
}

async function syncDir(dir: string): Promise<void> {
  const dh = await fs.open(dir, constants.O_RDONLY);
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}
