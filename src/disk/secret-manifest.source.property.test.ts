import fc from 'fast-check';
import { isMap, isScalar, isSeq, type Pair, parseAllDocuments, visit, type YAMLMap } from 'yaml';
import { describe, expect, it } from 'vitest';
import type { CapCredentials } from '../core/credentials.js';
import { renderCredentialsIni } from '../core/credentials.js';
import { formatRfc3339 } from '../core/policy.js';
import { applyCredentialsToManifest, findManagedSecrets } from './secret-manifest.js';

// Property test of the promise that a manifest edit changes only what it writes (issue 13):
// manifests in many YAML styles (block and flow maps, every scalar style, odd number forms,
// !!binary, comments with any spacing, CRLF, other documents) are edited, then compared byte
// for byte with the original outside the written keys. Both texts are parsed again and the
// written pairs (the credential keys in stringData and data, the annotations and the label)
// are cut out of each by their source ranges, the same way for both; what remains must be
// identical. The values must also read back as exactly what was written.

const ROLE = 'cap-token-refresh/role';
const EXPIRATION = 'cap-token-refresh/expiration';
const REFRESHED_AT = 'cap-token-refresh/refreshed-at';
const ISSUED_ROLE = 'cap-token-refresh/issued-role';
const CLOCK_OFFSET = 'cap-token-refresh/clock-offset-seconds';
const MANAGED = 'cap-token-refresh/managed';
const CRED_KEYS = ['aws_access_key_id', 'aws_secret_access_key', 'credentials'];

/** A value after `key:`: in block context (given the indentation of its content lines), and in flow context when it can be there. */
interface Value {
  block: (content: string) => string;
  flow?: string;
}

const comment = fc
  .tuple(fc.constantFrom(' ', '  ', '\t', '     ', ' \t '), fc.stringMatching(/^[A-Za-z0-9 ,.:!?#'"-]{0,12}$/))
  .map(([space, text]) => `${space}#${text}`);
const maybeComment = fc.option(comment, { nil: '' });

/** A single-line scalar in many forms, with a comment after it or not. */
const lineValue: fc.Arbitrary<Value> = fc
  .tuple(
    fc.constantFrom(
      '012',
      '0x1F',
      '+1',
      '.5',
      '1e3',
      '0o17',
      '-.inf',
      '.NaN',
      '1_000',
      '-0',
      '~',
      'null',
      'true',
      'yes',
      '2026-01-01',
      '2026-01-01T00:00:00Z',
      'plain words',
      'a:b',
      "'it''s'",
      '"tab\\tand \\u00e9\\n"',
      '""',
      "''",
      '!!binary "not base64 !!"',
      '!!binary b2xk',
      '!!str 12',
      '!!int "7"',
      '[a,  b ,c]',
      '{x: 1,y:  2}',
      '[]',
      '{}',
    ),
    maybeComment,
  )
  .map(([v, c]) => ({ block: () => ` ${v}${c}\n`, flow: v }));

/** Multi-line scalars: folded and literal blocks with their indicators, a wrapped !!binary, a multi-line plain and quoted scalar. */
const blockValue: fc.Arbitrary<Value> = fc.constantFrom<Value>(
  { block: (c) => ` >\n${c}folded\n${c}text\n\n${c}para\n` },
  { block: (c) => ` >-\n${c}strip\n` },
  { block: (c) => ` |+\n${c}keep\n\n` },
  { block: (c) => ` | # header comment\n${c}lit\n${c}  more\n` },
  { block: (c) => ` |2\n${c}  two more\n` },
  { block: (c) => ` !!binary |\n${c}R0lGODlhDAAMAIQAAP//9/X17unp5WZmZgAAAOfn515eXvPz7Y6OjuDg4J+fn5\n${c}OTk6enp56enmleECcgggoBADs=\n` },
  { block: (c) => ` plain\n${c}continued\n` },
  { block: (c) => ` "double\n${c}continued"\n` },
);
const foreignValue = fc.oneof({ weight: 3, arbitrary: lineValue }, { weight: 1, arbitrary: blockValue });

/** What a written key might hold before the edit. */
const oldValue: fc.Arbitrary<Value> = fc.oneof(
  fc
    .tuple(fc.constantFrom('old', '"old"', "'old'", '!!str old', 'b2xk', '!!binary b2xk', '""', '2020-01-01T00:00:00Z', 'not-a-time'), maybeComment)
    .map(([v, c]) => ({ block: () => ` ${v}${c}\n`, flow: v })),
  fc.constantFrom<Value>({ block: (c) => ` |\n${c}old\n` }, { block: (c) => ` !!binary |\n${c}b2xk\n` }),
);

const foreignKey = (prefix: string) => fc.stringMatching(/^[a-z][a-z0-9]{0,5}$/).map((s) => `${prefix}${s}`);

interface MapModel {
  style: 'block' | 'flow' | 'empty' | 'null' | 'absent';
  entries: [string, Value][];
  /** Comment or blank lines before each block entry (by index), at their own indentation offset. */
  lineComments: [number, string][];
  flowSep: string;
  nullForm: string;
}

/** A map with the given written keys (old values) and foreign keys mixed in, in one of the styles. */
function mapModel(written: string[], foreign: fc.Arbitrary<string>, styles: MapModel['style'][], required: string[] = []): fc.Arbitrary<MapModel> {
  return fc
    .record({
      style: fc.constantFrom(...styles),
      written: fc.subarray(written.filter((k) => !required.includes(k))),
      writtenValues: fc.array(oldValue, { minLength: written.length + 1, maxLength: written.length + 1 }),
      requiredValues: fc.array(fc.oneof(lineValue, blockValue), { minLength: required.length, maxLength: required.length }),
      foreign: fc.uniqueArray(fc.tuple(foreign, foreignValue), { maxLength: 4, selector: ([k]) => k }),
      order: fc.array(fc.nat(), { maxLength: 12 }),
      quoted: fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
      lineComments: fc.array(
        fc.tuple(fc.nat({ max: 11 }), fc.tuple(fc.constantFrom('', ' ', '  ', '   ', '      '), fc.stringMatching(/^[a-z ]{0,10}$/)), fc.nat({ max: 4 })),
        { maxLength: 3 },
      ),
      flowSep: fc.constantFrom(', ', ',', ' ,  ', ',   '),
      nullForm: fc.constantFrom('', ' ~', ' null', ' # nothing yet', ' ~ # none'),
    })
    .map((r) => {
      const entries: [string, Value][] = [
        ...required.map((k, i): [string, Value] => [k, r.requiredValues[i]!]),
        ...r.written.map((k, i): [string, Value] => [r.quoted[i] ? `"${k}"` : k, r.writtenValues[i]!]),
        ...r.foreign,
      ];
      // A random order.
      for (let i = entries.length - 1; i > 0; i--) {
        const j = (r.order[i] ?? i) % (i + 1);
        [entries[i], entries[j]] = [entries[j]!, entries[i]!];
      }
      const style = r.style === 'block' && entries.length === 0 ? 'empty' : r.style;
      return {
        style,
        entries,
        // One in five is a blank line (spaces only) rather than a comment.
        lineComments: r.lineComments.map(([at, [indent, text], blank]): [number, string] => [at, blank === 0 ? indent : `${indent}#${text}`]),
        flowSep: r.flowSep,
        nullForm: r.nullForm,
      };
    });
}

/** The text after `key:` for a map, its items at column `col`. */
function renderMap(m: MapModel, col: number, step: number): string {
  const flowOk = m.entries.every(([, v]) => v.flow !== undefined);
  const style = m.style !== 'flow' || flowOk ? m.style : 'block';
  if (style === 'null' || style === 'absent') return `${m.nullForm}\n`;
  if (style === 'empty' || m.entries.length === 0) return ' {}\n';
  if (style === 'flow') return ` {${m.entries.map(([k, v]) => `${k}: ${v.flow}`).join(m.flowSep)}}\n`;
  const ind = ' '.repeat(col);
  const lines = m.entries.map(([k, v], i) => {
    const comments = m.lineComments.filter(([at]) => at === i).map(([, c]) => `${c}\n`);
    return `${comments.join('')}${ind}${k}:${v.block(' '.repeat(col + step))}`;
  });
  return `\n${lines.join('')}`;
}

/** A map as a flow value (all its values flow-able), for a document in flow style. */
function renderFlowMap(m: MapModel): string | undefined {
  if (m.style === 'null' || m.style === 'absent') return m.style === 'null' ? '~' : undefined;
  if (m.style === 'empty') return '{}';
  return `{${m.entries
    .filter(([, v]) => v.flow !== undefined)
    .map(([k, v]) => `${k}: ${v.flow}`)
    .join(m.flowSep)}}`;
}

interface DocModel {
  managed: boolean;
  kind: string;
  topFlow: boolean;
  metadataFlow: boolean;
  step: number;
  annotations: MapModel;
  labels: MapModel;
  data: MapModel;
  stringData: MapModel;
  metaExtra: [string, Value][];
  topExtra: [string, Value][];
  headComment: string;
}

const roleValue: Value = { block: () => ' role-a   # the role\n', flow: 'role-a' };

const docModel: fc.Arbitrary<DocModel> = fc
  .record({
    managed: fc.boolean(),
    kind: fc.constantFrom('Secret', 'Secret', 'ConfigMap'),
    topFlowWeight: fc.nat({ max: 9 }),
    metadataFlow: fc.boolean(),
    step: fc.constantFrom(2, 2, 4, 3),
    annotations: mapModel([EXPIRATION, REFRESHED_AT, ISSUED_ROLE, CLOCK_OFFSET], foreignKey('example.com/'), ['block', 'block', 'flow']),
    labels: mapModel([MANAGED], foreignKey('app.io/'), ['block', 'flow', 'empty', 'null', 'absent', 'absent']),
    data: mapModel(CRED_KEYS, foreignKey('d'), ['block', 'block', 'flow', 'empty', 'null', 'absent']),
    stringData: mapModel(CRED_KEYS, foreignKey('s'), ['block', 'block', 'flow', 'empty', 'null', 'absent']),
    metaExtra: fc.uniqueArray(fc.tuple(foreignKey('m'), foreignValue), { maxLength: 2, selector: ([k]) => k }),
    topExtra: fc.uniqueArray(fc.tuple(foreignKey('x'), foreignValue), { maxLength: 4, selector: ([k]) => k }),
    headComment: fc.option(
      fc.stringMatching(/^[a-z ]{0,12}$/).map((s) => `#${s}\n`),
      { nil: '' },
    ),
  })
  .map(({ topFlowWeight, ...m }) => ({ ...m, topFlow: topFlowWeight === 0 }));

function renderDoc(m: DocModel): string {
  const annotations: MapModel = m.managed
    ? { ...m.annotations, style: m.annotations.style === 'flow' ? 'flow' : 'block', entries: [[ROLE, roleValue], ...m.annotations.entries] }
    : m.annotations;
  if (m.topFlow) {
    const meta = [
      'name: n',
      ...(renderFlowMap(annotations) ? [`annotations: ${renderFlowMap(annotations)}`] : []),
      ...(renderFlowMap(m.labels) ? [`labels: ${renderFlowMap(m.labels)}`] : []),
    ];
    const top = [
      'apiVersion: v1',
      `kind: ${m.kind}`,
      `metadata: {${meta.join(', ')}}`,
      ...(renderFlowMap(m.data) ? [`data: ${renderFlowMap(m.data)}`] : []),
      ...(renderFlowMap(m.stringData) ? [`stringData: ${renderFlowMap(m.stringData)}`] : []),
      ...m.topExtra.filter(([, v]) => v.flow !== undefined).map(([k, v]) => `${k}: ${v.flow}`),
    ];
    return `${m.headComment}{${top.join(', ')}}\n`;
  }
  const s = m.step;
  const metaMaps: [string, MapModel][] = [
    ['annotations', annotations],
    ['labels', m.labels],
  ];
  let metadata: string;
  if (m.metadataFlow) {
    const parts = ['name: n', ...metaMaps.flatMap(([k, map]) => (renderFlowMap(map) ? [`${k}: ${renderFlowMap(map)}`] : []))];
    metadata = ` {${parts.join(', ')}}\n`;
  } else {
    const ind = ' '.repeat(s);
    metadata = `\n${ind}name: n${'   # the name'}\n${metaMaps
      .filter(([, map]) => map.style !== 'absent' || map === annotations)
      .map(([k, map]) => `${ind}${k}:${renderMap(map === annotations && map.style === 'absent' ? { ...map, style: 'block' } : map, 2 * s, s)}`)
      .join('')}${m.metaExtra.map(([k, v]) => `${ind}${k}:${v.block(' '.repeat(2 * s))}`).join('')}`;
  }
  const top = [
    `apiVersion: v1\n`,
    `kind: ${m.kind}\n`,
    `metadata:${metadata}`,
    ...(
      [
        ['data', m.data],
        ['stringData', m.stringData],
      ] as const
    )
      .filter(([, map]) => map.style !== 'absent')
      .map(([k, map]) => `${k}:${renderMap(map, s, s)}`),
  ];
  // Foreign keys between the others.
  for (const [i, [k, v]] of m.topExtra.entries()) top.splice(Math.min(top.length, 1 + ((i * 3) % top.length)), 0, `${k}:${v.block(' '.repeat(s))}`);
  return `${m.headComment}${top.join('')}`;
}

const fileArb = fc
  .record({
    docs: fc.array(docModel, { minLength: 1, maxLength: 3 }),
    separators: fc.array(fc.constantFrom('---\n', '--- # next\n', '...\n---\n', '\n---\n'), { minLength: 3, maxLength: 3 }),
    leading: fc.constantFrom('', '---\n', '# file comment\n---\n'),
    crlf: fc.boolean(),
    noFinalNewline: fc.boolean(),
  })
  .map(({ docs, separators, leading, crlf, noFinalNewline }) => {
    let text = leading + docs.map((d, i) => (i === 0 ? '' : separators[i - 1]) + renderDoc(d)).join('');
    if (noFinalNewline) text = text.replace(/\n$/, '');
    if (crlf) text = text.replace(/\n/g, '\r\n');
    return { docs, text, crlf };
  });

const credsArb: fc.Arbitrary<CapCredentials> = fc.record(
  {
    accessKeyId: fc.stringMatching(/^ASIA[A-Z2-7]{16}$/),
    secretAccessKey: fc.stringMatching(/^[A-Za-z0-9+/]{40}$/),
    sessionToken: fc.stringMatching(/^[A-Za-z0-9+/]{20,200}={0,2}$/),
    expiration: fc.integer({ min: Date.parse('2026-01-01T00:00:00Z'), max: Date.parse('2030-01-01T00:00:00Z') }).map((ms) => new Date(ms)),
    // CAP's clock minus this node's: within 60 s (no annotation) or over it (the clock-offset annotation).
    capClockOffsetMs: fc.constantFrom(0, 30_000, 90_000, -400_000),
  },
  { requiredKeys: ['accessKeyId', 'secretAccessKey', 'sessionToken', 'expiration'] },
);

const keyOf = (p: Pair) => (isScalar(p.key) ? p.key.value : undefined);
const findPair = (map: YAMLMap, key: string) => (map.items as Pair[]).find((p) => keyOf(p) === key);

/**
 * The text with the pairs an edit writes cut out (by the source ranges of a fresh parse):
 * the written annotations, the label, the credential keys of stringData and data. A map the
 * edit writes into goes whole when it is null, empty or holds nothing else; so does data when
 * it held only credential keys.
 */
function residue(text: string, indexes: number[]): string {
  const docs = parseAllDocuments(text) as unknown as { contents: YAMLMap; get: (k: string, keep: true) => unknown }[];
  const cuts: [number, number][] = [];
  const lineStart = (pos: number) => text.lastIndexOf('\n', pos - 1) + 1;
  const range = (node: unknown) => (node as { range?: [number, number, number] } | null)?.range;
  /** Block pairs go with their whole lines; in a flow map each run of cut pairs goes with the comma after it (or, at the end, before it). */
  const cutPairs = (map: YAMLMap, pairs: Pair[]) => {
    if (!map.flow) {
      for (const pair of pairs) {
        const key = range(pair.key)!;
        // A scalar to the end of its line; a map or list with all its lines; then the comment lines
        // and lines of spaces after it that are deeper than its key (inside its item), with blank lines among them.
        const value = range(pair.value);
        let end = Math.max(value?.[isMap(pair.value) || isSeq(pair.value) ? 2 : 1] ?? 0, key[2]);
        if (text[end - 1] !== '\n') {
          if (/^[ \t]*$/.test(text.slice(lineStart(end), end))) end = lineStart(end);
          else end = text.includes('\n', end) ? text.indexOf('\n', end) + 1 : text.length;
        }
        const col = key[0] - lineStart(key[0]);
        for (let at = end; at < text.length && text[at - 1] === '\n'; ) {
          const next = text.includes('\n', at) ? text.indexOf('\n', at) + 1 : text.length;
          const line = text.slice(at, next).replace(/\r?\n$/, '');
          const deeper = (/^ */.exec(line)?.[0].length ?? 0) > col;
          if (/^ *#/.test(line) && deeper) end = next;
          else if (!/^[ \t]*$/.test(line)) break;
          else if (deeper) end = next;
          at = next;
        }
        cuts.push([lineStart(key[0]), end]);
      }
      return;
    }
    const items = map.items as Pair[];
    const start = (n: number) => range(items[n]!.key)![0];
    const end = (n: number) => range(items[n]!.value)?.[1] ?? range(items[n]!.key)![1];
    for (let a = 0; a < items.length; a++) {
      if (!pairs.includes(items[a]!)) continue;
      let b = a;
      while (b + 1 < items.length && pairs.includes(items[b + 1]!)) b += 1;
      if (b + 1 < items.length) cuts.push([start(a), start(b + 1)]);
      else if (a > 0) cuts.push([end(a - 1), end(b)]);
      else cuts.push([start(a), end(b)]);
      a = b;
    }
  };
  for (const i of indexes) {
    const top = docs[i]!.contents;
    const metadata = findPair(top, 'metadata')!.value as YAMLMap;
    const maps: [YAMLMap, string, string[], boolean][] = [
      [metadata, 'annotations', [EXPIRATION, REFRESHED_AT, ISSUED_ROLE, CLOCK_OFFSET], true],
      [metadata, 'labels', [MANAGED], true],
      [top, 'data', CRED_KEYS, false],
      [top, 'stringData', CRED_KEYS, true],
    ];
    // Pairs cut whole, by parent map: cut together, so that a run of them goes with one comma.
    const whole = new Map<YAMLMap, Pair[]>();
    for (const [parent, name, keys, writtenInto] of maps) {
      const pair = findPair(parent, name);
      if (!pair) continue;
      const map = isMap(pair.value) ? pair.value : undefined;
      const own = map ? (map.items as Pair[]).filter((p) => keys.includes(String(keyOf(p)))) : [];
      if (map ? (map.items.length === 0 && writtenInto) || (own.length > 0 && own.length === map.items.length) : writtenInto) {
        whole.set(parent, [...(whole.get(parent) ?? []), pair]);
      } else if (own.length > 0) cutPairs(map!, own);
    }
    for (const [parent, pairs] of whole) cutPairs(parent, pairs);
  }
  cuts.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const [s, e] of cuts) {
    const prev = merged[merged.length - 1];
    if (prev && s <= prev[1]) prev[1] = Math.max(prev[1], e);
    else merged.push([s, e]);
  }
  // A run of cut lines right after a keep-chomped block (|+, >+) goes with the blank lines after
  // it, which would otherwise become more lines of that block.
  const keepEnds = new Set<number>();
  for (const doc of docs) {
    visit(doc as never, {
      Scalar(_, s) {
        if ((s.type === 'BLOCK_LITERAL' || s.type === 'BLOCK_FOLDED') && s.range && /^[|>][-1-9]*\+/.test(text.slice(s.range[0]))) keepEnds.add(s.range[1]);
      },
    });
  }
  let reach = -1;
  for (const cut of merged) {
    if ((!keepEnds.has(cut[0]) && cut[0] !== reach) || text[cut[1] - 1] !== '\n') continue;
    const blank = /(?:[ \t]*\r?\n)*/y;
    blank.lastIndex = cut[1];
    blank.exec(text);
    cut[1] = blank.lastIndex;
    reach = cut[1];
  }
  // Whole lines at the end of a file without a final line break go with the line break before them.
  const tail = merged[merged.length - 1];
  if (tail && tail[1] === text.length && !text.endsWith('\n') && tail[0] > 0 && tail[0] === lineStart(tail[0])) tail[0] -= text[tail[0] - 2] === '\r' ? 2 : 1;
  let out = '';
  let at = 0;
  for (const [s, e] of merged) {
    out += text.slice(at, s);
    at = e;
  }
  return out + text.slice(at);
}

function toJs(text: string): any[] {
  return parseAllDocuments(text).map((d) => (d as unknown as { toJS(): any }).toJS());
}

function expectedAfter(before: any, creds: CapCredentials, refreshedAt: Date, issuedRole: string | undefined): any {
  // Copies only what changes (structuredClone would turn a !!binary Buffer into a plain Uint8Array).
  const annotations = { ...before.metadata.annotations, [EXPIRATION]: formatRfc3339(creds.expiration), [REFRESHED_AT]: formatRfc3339(refreshedAt) };
  if (issuedRole === undefined) delete annotations[ISSUED_ROLE];
  else annotations[ISSUED_ROLE] = issuedRole;
  const skew = creds.capClockOffsetMs;
  if (skew === undefined || Math.abs(skew) <= 60_000) delete annotations[CLOCK_OFFSET];
  else annotations[CLOCK_OFFSET] = String(Math.round(skew / 1000));
  const out = {
    ...before,
    metadata: { ...before.metadata, annotations, labels: { ...(before.metadata.labels ?? {}), [MANAGED]: 'true' } },
    stringData: {
      ...(before.stringData ?? {}),
      aws_access_key_id: creds.accessKeyId,
      aws_secret_access_key: creds.secretAccessKey,
      credentials: renderCredentialsIni(creds),
    },
  };
  if (before.data && typeof before.data === 'object') {
    const keys = Object.keys(before.data);
    if (keys.length > 0 && keys.every((k) => CRED_KEYS.includes(k))) delete out.data;
    else out.data = Object.fromEntries(Object.entries(before.data).filter(([k]) => !CRED_KEYS.includes(k)));
  }
  return out;
}

describe('applyCredentialsToManifest changes only what it writes (property)', () => {
  it('manifests in many YAML styles keep every byte outside the written keys, annotations and label', () => {
    let edited = 0;
    const seen = { crlf: 0, severalDocuments: 0, flowMetadata: 0, wrappedBinary: 0 };
    fc.assert(
      fc.property(fileArb, credsArb, fc.option(fc.constantFrom('role-a', 'other'), { nil: undefined }), ({ docs, text, crlf }, creds, issuedRole) => {
        const parsed = parseAllDocuments(text);
        // The generator only writes valid YAML; say so rather than skip.
        expect(parsed.flatMap((d) => d.errors.map((e) => e.message))).toEqual([]);
        const managed = docs.flatMap((d, i) => (d.managed && d.kind === 'Secret' ? [i] : []));
        expect(findManagedSecrets(text).map((f) => f.docIndex)).toEqual(managed);
        const refreshedAt = new Date(creds.expiration.getTime() - 3600_000);
        const out = applyCredentialsToManifest(text, managed, creds, refreshedAt, issuedRole);
        if (managed.length > 0) {
          edited += 1;
          if (crlf) seen.crlf += 1;
          if (docs.length > 1) seen.severalDocuments += 1;
          if (managed.some((i) => docs[i]!.topFlow || docs[i]!.metadataFlow)) seen.flowMetadata += 1;
          if (/!!binary \|/.test(text)) seen.wrappedBinary += 1;
        }

        // Byte for byte outside what was written.
        expect(residue(out, managed)).toBe(residue(text, managed));
        // What was written reads back; every other document reads as before.
        const before = toJs(text);
        const after = toJs(out);
        expect(after.length).toBe(before.length);
        for (const [i, doc] of after.entries()) expect(doc).toEqual(managed.includes(i) ? expectedAfter(before[i], creds, refreshedAt, issuedRole) : before[i]);
        // Line endings: CRLF stays CRLF in what is added too.
        if (crlf) expect(out.replace(/\r\n/g, '')).not.toContain('\n');
        // Unmanaged-only files are not touched at all; the same edit again changes nothing.
        if (managed.length === 0) expect(out).toBe(text);
        expect(applyCredentialsToManifest(out, managed, creds, refreshedAt, issuedRole)).toBe(out);
      }),
      { numRuns: 400 },
    );
    expect(edited).toBeGreaterThan(150);
    // The styles that matter were all edited, not just generated.
    for (const [style, n] of Object.entries(seen)) expect(n, style).toBeGreaterThan(10);
  });
});
