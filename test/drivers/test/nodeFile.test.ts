// test:///ABS/FILE.xml: libvirt's node-file format (inline objects, file= references, test:
// extensions, <cpu>/<memory>), compared with virsh on the same file.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { open, VirtError } from '../../../src/api/index.js';
import { projectRoot } from '../../helpers/system.js';
import { haveVirsh, tsvirt, virsh } from '../../cli/shells.js';
import { havePythonLibvirt, runPython } from '../../api/pythonLibvirt.js';

const dir = join(projectRoot, 'test/drivers/test/fixtures');
const NODE = `test://${dir}/node.xml`;

const cases = [
  'list --all; net-list --all; nodeinfo',
  'dominfo web; dominfo temp; dominfo paused',
  'dumpxml web; dumpxml db; dumpxml paused; dumpxml temp',
  'domstate web --reason; domstate paused --reason; domstate db --reason; domstate temp --reason',
  'domiflist web; domiflist db; net-dumpxml lan; net-dumpxml isolated; net-info lan',
  'destroy temp; list --all; start db; list; resume paused; domstate paused --reason; destroy web; undefine web; list --all',
  'uri',
  'capabilities',
];

for (const c of cases) {
  test(`node file: ${c}`, { skip: haveVirsh ? false : 'needs virsh' }, () => {
    assert.deepEqual(tsvirt(['-c', NODE, c]), virsh(['-c', NODE, c]));
  });
}

for (const uri of [`test://${dir}/notnode.xml`, 'test:///nonexist/x.xml', 'test:///']) {
  test(`node file refused: ${uri}`, { skip: haveVirsh ? false : 'needs virsh' }, () => {
    const want = virsh(['-c', uri, 'uri']);
    const got = tsvirt(['-c', uri, 'uri']);
    // libxml2 adds an "I/O warning" line of its own for a missing file; the error lines agree.
    assert.equal(got.stderr, want.stderr.replace(/^I\/O warning.*\n/m, ''));
    assert.equal(got.status, want.status);
  });
}

test('node file errors carry libvirt codes and domains', { skip: havePythonLibvirt() ? false : 'needs python3-libvirt' }, async () => {
  const uris = [`test://${dir}/notnode.xml`, 'test:///nonexist/x.xml', 'test:///'];
  const want = runPython(uris.map((u) => `libvirt.open(${JSON.stringify(u)})`));
  for (let i = 0; i < uris.length; i++) {
    await assert.rejects(open(uris[i]!), (e: VirtError) => {
      assert.deepEqual({ code: e.code, domain: e.domain, message: e.message }, want[i]);
      return true;
    });
  }
});

test('each test:///FILE connection starts from the file; test:///default is fresh once all close', async () => {
  const a = await open(NODE);
  await (await a.domainLookupByName('web')).destroy();
  const b = await open(NODE);
  assert.equal(await (await b.domainLookupByName('web')).isActive(), true);
  await a.close();
  await b.close();

  const d1 = await open('test:///default');
  await (await d1.domainLookupByName('test')).destroy();
  const d2 = await open('test:///default');
  // Shared while open, as libvirt: the second connection sees the first one's change.
  assert.equal(await (await d2.domainLookupByName('test')).isActive(), false);
  await d1.close();
  await d2.close();
  const d3 = await open('test:///default');
  assert.equal(await (await d3.domainLookupByName('test')).isActive(), true);
  assert.equal((await d3.domainLookupByName('test')).getID(), 1);
  await d3.close();
});
