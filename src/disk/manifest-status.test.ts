import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeTestTempDir } from '../../test/support/temp-dir.js';
import { loadManifestStatusTargets } from './manifest-status.js';
import { readManifestFile } from './read-manifest-file.js';

// What `status --manifests` reads, against real temporary folders: each file once, through
// the injectable reader, whatever the file holds.

const secret = (name: string, lines: string[]) =>
  ['apiVersion: v1', 'kind: Secret', 'metadata:', `  name: ${name}`, '  namespace: ns', ...lines, 'stringData:', '  aws_access_key_id: ""', ''].join('\n');
const WITH_ROLE = secret('managed', ['  annotations:', '    cap-token-refresh/role: r']);
const LABELLED = secret('labelled', ['  labels:', '    cap-token-refresh/managed: "true"']);
const PLAIN = secret('plain', []);
const BROKEN = 'kind: Secret\nmetadata: [unclosed\n';

async function folder(files: Record<string, string>): Promise<string> {
  const dir = await makeTestTempDir('ctr-manifest-status-');
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text, { mode: 0o600 });
  return dir;
}

/** readManifestFile, counting the reads of each file. */
function countingReader() {
  const reads = new Map<string, number>();
  const readFile = (file: string) => {
    reads.set(file, (reads.get(file) ?? 0) + 1);
    return readManifestFile(file);
  };
  return { reads, readFile };
}

describe('status --manifests reads each manifest once', () => {
  it.each<[string, Record<string, string>, [string, string | undefined][]]>([
    ['a managed Secret', { 'a.yaml': WITH_ROLE }, [['managed', undefined]]],
    ['a Secret labelled managed without a role', { 'a.yaml': LABELLED }, [['labelled', 'labels this Secret cap-token-refresh/managed: "true"']]],
    ['a Secret neither labelled nor annotated', { 'a.yaml': PLAIN }, []],
    ['a file that is not valid YAML', { 'a.yaml': BROKEN }, [['a.yaml', 'not valid YAML']]],
    [
      'several Secrets in one file, and several files',
      { 'a.yaml': `${LABELLED}---\n${WITH_ROLE}`, 'b.yml': PLAIN.replace('plain', 'other'), 'c.yaml': WITH_ROLE.replace('managed', 'second') },
      [
        ['managed', undefined],
        ['second', undefined],
        ['labelled', 'no cap-token-refresh/role annotation'],
      ],
    ],
  ])('%s', async (_what, files, expected) => {
    const dir = await folder(files);
    const { reads, readFile } = countingReader();
    const targets = await loadManifestStatusTargets(dir, readFile);
    expect(targets.map((t) => t.name.replace(`${dir}/`, ''))).toEqual(expected.map(([name]) => name));
    expected.forEach(([, problem], i) => {
      if (problem === undefined) expect(targets[i]?.problem).toBeUndefined();
      else expect(targets[i]?.problem).toContain(problem);
      expect(targets[i]?.file).toMatch(new RegExp(`^${dir}/`));
    });
    expect(Object.fromEntries(reads)).toEqual(Object.fromEntries(Object.keys(files).map((name) => [join(dir, name), 1])));
  });

  it('a file that cannot be read is one unmanaged target, and the others are read once', async () => {
    const dir = await folder({ 'a.yaml': WITH_ROLE });
    await mkdir(join(dir, 'b.yaml'));
    const { reads, readFile } = countingReader();
    const targets = await loadManifestStatusTargets(dir, readFile);
    expect(targets.map((t) => [t.name.replace(`${dir}/`, ''), t.problem])).toEqual([
      ['managed', undefined],
      ['b.yaml', expect.stringMatching(/b\.yaml is a folder, not a regular file/)],
    ]);
    expect([...reads.values()]).toEqual([1, 1]);
  });
});
