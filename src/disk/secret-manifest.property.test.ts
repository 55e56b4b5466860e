import fc from 'fast-check';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import type { CapCredentials } from '../core/credentials.js';
import { renderCredentialsIni } from '../core/credentials.js';
import { formatRfc3339 } from '../core/policy.js';
import { applyCredentialsToManifest, findManagedSecrets, ManifestParseError } from './secret-manifest.js';

// Property tests (fuzzing) of the manifest editor: generated Secret manifests with random
// extra keys, comments, labels, annotations and data. After an edit, reading the file back
// gives exactly what was written and everything else as it was; malformed input ends in a
// ManifestParseError and no output.

const ROLE = 'cap-token-refresh/role';
const EXPIRATION = 'cap-token-refresh/expiration';
const REFRESHED_AT = 'cap-token-refresh/refreshed-at';
const MANAGED = 'cap-token-refresh/managed';
const CRED_KEYS = ['aws_access_key_id', 'aws_secret_access_key', 'credentials'];

type Dict = Record<string, string>;

interface DocModel {
  kind: 'Secret' | 'ConfigMap';
  name: string;
  namespace?: string;
  role?: string;
  annotations: Dict;
  labels?: Dict;
  data?: Dict;
  stringData?: Dict;
  extraTop: Dict;
  /** Comment texts by where they go. */
  headComment?: string;
  nameComment?: string;
  annotationComment?: string;
  dataComment?: string;
}

const commentText = fc.stringMatching(/^[A-Za-z0-9 ,.!?-]{1,20}$/).map((s) => `note ${s.trim()}`);
const k8sName = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,14}[a-z0-9])?$/);
const annotationKey = fc.stringMatching(/^[a-z]{1,6}\.(com|io)\/[a-z0-9][-a-z0-9_.]{0,10}$/);
const dataKey = fc.oneof(fc.stringMatching(/^[A-Za-z0-9_.-]{1,12}$/), fc.constantFrom(...CRED_KEYS));
/** Values with every character YAML must quote or escape: `: `, `#`, quotes, newlines, unicode. */
const anyValue = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ maxLength: 12, unit: 'grapheme' }),
  fc.constantFrom(
    '',
    ' ',
    'true',
    'null',
    '0x10',
    '1e3',
    '- x',
    'a: b',
    '# not a comment',
    "it's",
    '"q"',
    'two\nlines',
    'tab\there',
    '*alias',
    '&anchor',
    '!tag',
    '{x}',
    '[y]',
  ),
);
const base64Value = fc.stringMatching(/^[A-Za-z0-9+/]{0,24}={0,2}$/);
const dict = (key: fc.Arbitrary<string>, value: fc.Arbitrary<string>) => fc.dictionary(key, value, { maxKeys: 5, noNullPrototype: true });

const docModel: fc.Arbitrary<DocModel> = fc
  .record(
    {
      kind: fc.constantFrom('Secret' as const, 'Secret' as const, 'ConfigMap' as const),
      name: k8sName,
      namespace: k8sName,
      role: fc.stringMatching(/^[A-Za-z0-9+=,.@_-]{1,20}$/),
      annotations: dict(annotationKey, anyValue).map((d) => {
        delete d[ROLE];
        return d;
      }),
      oldTimes: fc.option(fc.constantFrom(['2026-01-01T00:00:00Z', '2025-12-31T23:00:00Z'], ['not-a-time', '2025-01-01T00:00:00Z'])),
      labels: dict(fc.stringMatching(/^[a-z]{1,8}(\.io\/[a-z]{1,5})?$/), fc.stringMatching(/^[A-Za-z0-9._-]{0,12}$/)),
      data: dict(dataKey, base64Value),
      stringData: dict(dataKey, anyValue),
      extraTop: dict(fc.stringMatching(/^x[A-Za-z]{0,8}$/), anyValue),
      headComment: commentText,
      nameComment: commentText,
      annotationComment: commentText,
      dataComment: commentText,
    },
    { requiredKeys: ['kind', 'name', 'annotations', 'extraTop'] },
  )
  .map((m) => {
    const { oldTimes, ...rest } = m as typeof m & { oldTimes?: string[] | null };
    const annotations = { ...rest.annotations };
    if (oldTimes) {
      annotations[EXPIRATION] = oldTimes[0]!;
      annotations[REFRESHED_AT] = oldTimes[1]!;
    }
    return { ...rest, annotations } as DocModel;
  });

const q = (s: string) => JSON.stringify(s);

/** The manifest an administrator might write: comments here and there, values quoted. */
function renderDoc(m: DocModel): string {
  const lines: string[] = [];
  if (m.headComment) lines.push(`# ${m.headComment}`);
  lines.push('apiVersion: v1', `kind: ${m.kind}`, 'metadata:', `  name: ${q(m.name)}${m.nameComment ? ` # ${m.nameComment}` : ''}`);
  if (m.namespace) lines.push(`  namespace: ${q(m.namespace)}`);
  const annotations = Object.entries({ ...(m.role !== undefined ? { [ROLE]: m.role } : {}), ...m.annotations });
  if (annotations.length > 0) {
    lines.push('  annotations:');
    annotations.forEach(([k, v], i) => {
      if (i === annotations.length - 1 && m.annotationComment) lines.push(`    # ${m.annotationComment}`);
      lines.push(`    ${k}: ${q(v)}`);
    });
  }
  if (m.labels) lines.push(...mapLines('  labels', m.labels, '    '));
  lines.push('type: Opaque');
  if (m.data) {
    lines.push(
      ...mapLines('data', m.data, '  ').map((l, i) => {
        // A comment on the first data key that is not a credential key (those are removed).
        const key = Object.keys(m.data!)[i - 1];
        return m.dataComment && key !== undefined && !CRED_KEYS.includes(key) && Object.keys(m.data!).findIndex((k) => !CRED_KEYS.includes(k)) === i - 1
          ? `${l} # ${m.dataComment}`
          : l;
      }),
    );
  }
  if (m.stringData) lines.push(...mapLines('stringData', m.stringData, '  '));
  for (const [k, v] of Object.entries(m.extraTop)) lines.push(`${k}: ${q(v)}`);
  return `${lines.join('\n')}\n`;
}

function mapLines(head: string, d: Dict, indent: string): string[] {
  const entries = Object.entries(d);
  if (entries.length === 0) return [`${head}: {}`];
  return [`${head}:`, ...entries.map(([k, v]) => `${indent}${q(k)}: ${q(v)}`)];
}

function isManaged(m: DocModel): boolean {
  return m.kind === 'Secret' && m.role !== undefined;
}

const credsArb: fc.Arbitrary<CapCredentials> = fc.record({
  accessKeyId: fc.stringMatching(/^ASIA[A-Z2-7]{16}$/),
  secretAccessKey: fc.stringMatching(/^[A-Za-z0-9+/]{40}$/),
  sessionToken: fc.stringMatching(/^[A-Za-z0-9+/]{20,300}={0,2}$/),
  expiration: fc.integer({ min: Date.parse('2026-01-01T00:00:00Z'), max: Date.parse('2030-01-01T00:00:00Z') }).map((ms) => new Date(ms)),
});
const refreshedAtArb = fc.integer({ min: Date.parse('2026-01-01T00:00:00Z'), max: Date.parse('2030-01-01T00:00:00Z') }).map((ms) => new Date(ms));

function toJsDocs(text: string): Record<string, any>[] {
  return parseAllDocuments(text).map((d) => (d as unknown as { toJS(): Record<string, any> }).toJS());
}

/** What a document must read back as after the edit: the three keys, two annotations, one label; all else as before. */
function expectedAfter(before: Record<string, any>, creds: CapCredentials, refreshedAt: Date): Record<string, any> {
  const out = structuredClone(before);
  out.metadata.annotations = { ...out.metadata.annotations, [EXPIRATION]: formatRfc3339(creds.expiration), [REFRESHED_AT]: formatRfc3339(refreshedAt) };
  out.metadata.labels = { ...(out.metadata.labels ?? {}), [MANAGED]: 'true' };
  out.stringData = {
    ...(out.stringData ?? {}),
    aws_access_key_id: creds.accessKeyId,
    aws_secret_access_key: creds.secretAccessKey,
    credentials: renderCredentialsIni(creds),
  };
  if (out.data) {
    // A data map the credential keys alone filled goes; one that was empty before stays (the edit leaves what it does not write).
    const emptied = Object.keys(out.data).length > 0 && Object.keys(out.data).every((k) => CRED_KEYS.includes(k));
    for (const k of CRED_KEYS) delete out.data[k];
    if (emptied) delete out.data;
  }
  return out;
}

function commentsOf(m: DocModel): string[] {
  const hasAnnotations = m.role !== undefined || Object.keys(m.annotations).length > 0;
  return [
    m.headComment,
    m.nameComment,
    hasAnnotations ? m.annotationComment : undefined,
    m.data && Object.keys(m.data).some((k) => !CRED_KEYS.includes(k)) ? m.dataComment : undefined,
  ].filter((c): c is string => Boolean(c));
}

describe('applyCredentialsToManifest and findManagedSecrets (property)', () => {
  const files = fc.tuple(fc.array(docModel, { minLength: 1, maxLength: 3 }), fc.boolean()).map(([docs, leadingMarker]) => ({
    docs,
    text: (leadingMarker ? '---\n' : '') + docs.map(renderDoc).join('---\n'),
  }));

  it('an edit reads back as exactly what was written, and leaves every other key, annotation, label and comment as it was', () => {
    let edited = 0;
    fc.assert(
      fc.property(files, credsArb, refreshedAtArb, ({ docs, text }, creds, refreshedAt) => {
        const found = findManagedSecrets(text);
        const managedIndexes = docs.flatMap((d, i) => (isManaged(d) ? [i] : []));
        expect(found.map((f) => f.docIndex)).toEqual(managedIndexes);
        found.forEach((f) => {
          const d = docs[f.docIndex]!;
          expect(f).toMatchObject({ name: d.name, namespace: d.namespace ?? 'default', role: d.role });
        });
        const before = toJsDocs(text);
        const out = applyCredentialsToManifest(text, managedIndexes, creds, refreshedAt);
        if (managedIndexes.length > 0) edited += 1;

        // findManagedSecrets gives back the new annotations, the same Secrets.
        const refound = findManagedSecrets(out);
        expect(refound).toEqual(
          found.map(({ dataProblem: _, issuedRole: __, ...f }) => ({
            ...f,
            expiration: formatRfc3339(creds.expiration),
            refreshedAt: formatRfc3339(refreshedAt),
          })),
        );
        // A YAML parser gives back exactly the written values and everything else equal.
        const after = toJsDocs(out);
        expect(after.length).toBe(before.length);
        after.forEach((doc, i) => {
          expect(doc).toEqual(managedIndexes.includes(i) ? expectedAfter(before[i]!, creds, refreshedAt) : before[i]);
        });
        // Comments stay, and so does the first line of each untouched document.
        for (const c of docs.flatMap(commentsOf)) expect(out).toContain(`# ${c}`);
        // The same edit again changes nothing.
        expect(applyCredentialsToManifest(out, managedIndexes, creds, refreshedAt)).toBe(out);
      }),
      { numRuns: 800 },
    );
    expect(edited).toBeGreaterThan(400);
  });

  it('keeps the three values exact whatever characters CAP put in them', () => {
    const anyCreds = fc.record({
      accessKeyId: fc.string({ minLength: 1, maxLength: 30, unit: 'grapheme' }),
      secretAccessKey: fc.string({ minLength: 1, maxLength: 30 }),
      sessionToken: fc.string({ minLength: 1, maxLength: 60 }),
      expiration: fc.constant(new Date('2027-01-01T00:00:00Z')),
    });
    fc.assert(
      fc.property(docModel.filter(isManaged), anyCreds, (m, creds) => {
        const out = applyCredentialsToManifest(renderDoc(m), [0], creds, new Date('2026-12-31T23:00:00Z'));
        const doc = toJsDocs(out)[0]!;
        expect(doc.stringData.aws_access_key_id).toBe(creds.accessKeyId);
        expect(doc.stringData.aws_secret_access_key).toBe(creds.secretAccessKey);
        expect(doc.stringData.credentials).toBe(renderCredentialsIni(creds));
      }),
      { numRuns: 1000 },
    );
  });

  it('ends mutated and wrongly shaped manifests in a result or a ManifestParseError, and writes nothing on error', () => {
    const outcomes = { ok: 0, parseError: 0 };
    const damage = fc.oneof(
      // Text-level: a cut, a deleted or duplicated line, a stray indicator or tab.
      fc.record({ at: fc.nat(), op: fc.constantFrom('truncate', 'delete-line', 'dup-line', 'indent-line'), insert: fc.constant('') }),
      fc.record({
        at: fc.nat(),
        op: fc.constant('insert'),
        insert: fc.constantFrom('\t', ':', '- ', '"', "'", '{', '[', '&a ', '*a', '*b ', '<<: *a\n', '!!binary ', '? ', '---\n', '\n  ', '%', '@', '`'),
      }),
      // Shape: a map where YAML has a scalar or a list, or the reverse.
      fc.record({
        at: fc.constant(0),
        op: fc.constant('shape'),
        insert: fc.constantFrom(
          'stringData: just-a-string',
          'stringData:\n- a',
          'data: 12',
          'data: [a, b]',
          'metadata: x',
          'metadata:\n- a',
          'labels: x',
          'annotations: x',
          'labels:\n- x',
          'stringData: null',
          'data: ~',
          'labels: ~',
          'annotations: ~',
        ),
      }),
    );
    fc.assert(
      fc.property(docModel.filter(isManaged), fc.array(damage, { minLength: 1, maxLength: 3 }), credsArb, (m, damages, creds) => {
        let text = renderDoc(m);
        for (const d of damages) text = applyDamage(text, d);
        let out: string | undefined;
        try {
          const found = findManagedSecrets(text);
          out = applyCredentialsToManifest(
            text,
            found.map((f) => f.docIndex),
            creds,
            new Date('2026-06-01T00:00:00Z'),
          );
        } catch (err) {
          expect(err).toBeInstanceOf(ManifestParseError);
          expect(out).toBeUndefined();
          outcomes.parseError += 1;
          return;
        }
        outcomes.ok += 1;
        // Whatever was accepted reads back as valid YAML with the credentials in every managed Secret.
        for (const f of findManagedSecrets(out)) {
          const doc = toJsDocs(out)[f.docIndex]!;
          expect(doc.stringData.aws_access_key_id).toBe(creds.accessKeyId);
          expect(doc.metadata.labels[MANAGED]).toBe('true');
        }
      }),
      { numRuns: 2500 },
    );
    expect(outcomes.ok).toBeGreaterThan(300);
    expect(outcomes.parseError).toBeGreaterThan(300);
  });
});

function applyDamage(text: string, d: { at: number; op: string; insert: string }): string {
  const lines = text.split('\n');
  const i = d.at % lines.length;
  switch (d.op) {
    case 'truncate':
      return text.slice(0, d.at % (text.length + 1));
    case 'delete-line':
      lines.splice(i, 1);
      return lines.join('\n');
    case 'dup-line':
      lines.splice(i, 0, lines[i]!);
      return lines.join('\n');
    case 'indent-line':
      lines[i] = ` ${lines[i]}`;
      return lines.join('\n');
    case 'insert': {
      const at = d.at % (text.length + 1);
      return text.slice(0, at) + d.insert + text.slice(at);
    }
    default: {
      // Replace the block that starts with the same top-level or metadata key by the wrong shape.
      const key = d.insert.split(':')[0]!;
      const nested = key === 'labels' || key === 'annotations';
      const start = lines.findIndex((l) => l === (nested ? `  ${key}:` : `${key}:`) || l.startsWith(nested ? `  ${key}: ` : `${key}: `));
      const replacement = d.insert.split('\n').map((l) => (nested ? `  ${l}` : l));
      if (start < 0) {
        const metadataAt = lines.indexOf('metadata:');
        if (nested) lines.splice(metadataAt + 1, 0, ...replacement);
        else lines.splice(lines.length - 1, 0, ...replacement);
        return lines.join('\n');
      }
      let end = start + 1;
      const childIndent = nested ? '    ' : '  ';
      while (end < lines.length && (lines[end]!.startsWith(childIndent) || lines[end]!.startsWith(`${childIndent.slice(2)}- `))) end += 1;
      lines.splice(start, end - start, ...replacement);
      return lines.join('\n');
    }
  }
}
