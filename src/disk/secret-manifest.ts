import { isDeepStrictEqual } from 'node:util';
import { type CST, Document, isMap, isScalar, LineCounter, Pair, parseAllDocuments, Scalar, visit, YAMLMap } from 'yaml';
import type { CapCredentials } from '../core/credentials.js';
import { buildSecretStringData } from '../core/credentials.js';
import {
  ANNOTATION_ACCOUNT,
  ANNOTATION_AGENCY,
  ANNOTATION_CLOCK_OFFSET,
  ANNOTATION_EXPIRATION,
  ANNOTATION_ISSUED_ROLE,
  ANNOTATION_MISSION,
  ANNOTATION_REFRESHED_AT,
  ANNOTATION_ROLE,
  LABEL_MANAGED,
  SECRET_CREDENTIAL_KEYS,
} from '../core/names.js';
import { errorMessage } from '../core/errors.js';
import { formatRfc3339, type SecretState } from '../core/policy.js';
import { findSecretDataProblem } from '../core/secret-data.js';
import { parseClockOffset, reportableSkewSeconds } from '../core/clock-skew.js';

/** A managed Secret found in a manifest file: what the refresh needs to decide and to report. */
export interface ManagedSecretManifest extends SecretState {
  /** Index of the YAML document in the file. */
  docIndex: number;
  namespace: string;
  name: string;
  role: string;
}

export class ManifestParseError extends Error {
  override name = 'ManifestParseError';
}

const YAML_OUTPUT = { lineWidth: 0, minContentWidth: 0 } as const;

function parseDocuments(text: string, keepSourceTokens: boolean): Document.Parsed[] {
  // uniqueKeys: false, because the library's own check compares every key with every other
  // (a Secret with 32,000 keys took 31 s); findDuplicateKey does it with a Set instead.
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { prettyErrors: true, uniqueKeys: false, lineCounter, keepSourceTokens });
  if (!Array.isArray(docs)) return [];
  for (const doc of docs) {
    const problem = doc.errors[0];
    if (problem) {
      const line = problem.linePos?.[0]?.line;
      throw new ManifestParseError(`it is not valid YAML${line ? ` (line ${line})` : ''}: ${problem.code}`);
    }
    const duplicate = findDuplicateKey(doc);
    if (duplicate !== undefined) throw new ManifestParseError(`it is not valid YAML (line ${lineCounter.linePos(duplicate).line}): DUPLICATE_KEY`);
    try {
      // Finds what the parser lets through but cannot be used: an alias to no anchor, or
      // aliases that expand too far (an alias bomb). The text is never re-serialised (edits
      // are made in the source), so a value the library could not write back is no reason to refuse.
      // mapAsMap: a key that is itself a map is legal YAML; as a Map it needs no string form (and no warning).
      doc.toJS({ mapAsMap: true });
    } catch (err) {
      throw new ManifestParseError(
        `it is not valid YAML: ${/alias/i.test(errorMessage(err)) ? 'an alias (*name) that names no anchor or expands too far' : 'a value cannot be read (a tag such as !!binary on the wrong value?)'}`,
      );
    }
  }
  return docs;
}

/**
 * The offset of the first key that repeats a key of the same map, or undefined: linear, one
 * Set per map. Scalar keys compare by value, other keys (a map as a key) by their source.
 */
function findDuplicateKey(doc: Document.Parsed): number | undefined {
  let found: number | undefined;
  visit(doc, {
    Map(_, map) {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        const key = pair.key;
        const id = isScalar(key) ? key.value : key === null ? null : `\u0000${String(key)}`;
        if (seen.has(id)) {
          found = (key as { range?: [number, number, number] } | null)?.range?.[0] ?? map.range?.[0] ?? 0;
          return visit.BREAK;
        }
        seen.add(id);
      }
      return undefined;
    },
  });
  return found;
}

function str(doc: Document, path: string[]): string | undefined {
  const v = doc.getIn(path);
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
}

/** The maps an edit writes into; each must be a map, absent or null (null counts as absent, as in Kubernetes). */
const EDITED_MAPS = [['metadata', 'annotations'], ['metadata', 'labels'], ['data'], ['stringData']] as const;

/**
 * Throws ManifestParseError when a map the edit writes into is something else (a string, a
 * list, an alias): the YAML library would otherwise fail with a bare Error half-way through.
 */
function checkEditable(doc: Document, namespace: string, name: string): void {
  for (const path of EDITED_MAPS) {
    const node = doc.getIn(path, true);
    if (node === undefined || isMap(node) || (isScalar(node) && node.value === null)) continue;
    throw new ManifestParseError(`${path.join('.')} of the Secret ${namespace}/${name} is not a map`);
  }
}

/**
 * The Secrets in a manifest text that carry the managed label but no role annotation, so
 * nothing refreshes them (status shows them as unmanaged). None for a text that does not
 * parse: findManagedSecrets reports that file.
 */
export function findLabelledSecretsWithoutRole(text: string): { docIndex: number; namespace: string; name: string }[] {
  let docs: Document.Parsed[];
  try {
    docs = parseDocuments(text, false);
  } catch (err) {
    if (err instanceof ManifestParseError) return [];
    throw err;
  }
  const found: { docIndex: number; namespace: string; name: string }[] = [];
  docs.forEach((doc, docIndex) => {
    if (!isMap(doc.contents) || doc.get('kind') !== 'Secret') return;
    const labelled = String(doc.getIn(['metadata', 'labels', LABEL_MANAGED]) ?? '') === 'true';
    if (!labelled || doc.hasIn(['metadata', 'annotations', ANNOTATION_ROLE])) return;
    found.push({ docIndex, namespace: str(doc, ['metadata', 'namespace']) ?? 'default', name: String(doc.getIn(['metadata', 'name']) ?? '') });
  });
  return found;
}

/** The Secrets in a manifest text that carry the role annotation. Throws ManifestParseError on bad YAML. */
export function findManagedSecrets(text: string): ManagedSecretManifest[] {
  const found: ManagedSecretManifest[] = [];
  parseDocuments(text, false).forEach((doc, docIndex) => {
    if (!isMap(doc.contents) || doc.get('kind') !== 'Secret') return;
    const role = str(doc, ['metadata', 'annotations', ANNOTATION_ROLE]);
    if (role === undefined) return;
    const opt = (key: string) => str(doc, ['metadata', 'annotations', key]);
    const agency = opt(ANNOTATION_AGENCY);
    const mission = opt(ANNOTATION_MISSION);
    const account = opt(ANNOTATION_ACCOUNT)?.trim();
    const expiration = opt(ANNOTATION_EXPIRATION);
    const refreshedAt = opt(ANNOTATION_REFRESHED_AT);
    const issuedRole = opt(ANNOTATION_ISSUED_ROLE)?.trim();
    const clockOffsetSeconds = parseClockOffset(opt(ANNOTATION_CLOCK_OFFSET));
    const dataProblem = findSecretDataProblem(readCredentialValues(doc));
    const namespace = str(doc, ['metadata', 'namespace']) ?? 'default';
    const name = str(doc, ['metadata', 'name']) ?? '';
    checkEditable(doc, namespace, name);
    found.push({
      docIndex,
      namespace,
      name,
      role: role.trim(),
      ...(agency ? { agency } : {}),
      ...(mission ? { mission } : {}),
      ...(account ? { account } : {}),
      ...(expiration ? { expiration } : {}),
      ...(refreshedAt ? { refreshedAt } : {}),
      ...(issuedRole ? { issuedRole } : {}),
      ...(clockOffsetSeconds !== undefined ? { clockOffsetSeconds } : {}),
      ...(dataProblem ? { dataProblem } : {}),
    });
  });
  return found;
}

/** The three credential keys of a Secret document, decoded (`stringData` wins over base64 `data`, as in Kubernetes). */
function readCredentialValues(doc: Document): Record<string, string | undefined> {
  const values: Record<string, string | undefined> = {};
  for (const key of SECRET_CREDENTIAL_KEYS) {
    const plain = str(doc, ['stringData', key]);
    const encoded = str(doc, ['data', key]);
    values[key] = plain ?? (encoded === undefined ? undefined : Buffer.from(encoded, 'base64').toString('utf8'));
  }
  return values;
}

/** What an edit writes under a key: a scalar in a style the library renders, a map of such, or null to remove the key. */
type NewValue = { value: string; type?: Scalar.Type } | { entries: Entry[] };
type Entry = [key: string, value: NewValue | null];
interface Splice {
  start: number;
  end: number;
  text: string;
  /** Lines to add: set to the line break, which goes before them when what precedes them does not end a line, else after them (unless at the end of a file without a final one). */
  lines?: string;
}

/** An edit that cannot be made without touching bytes it does not own; the file is then left as it was. */
class InPlaceEditError extends Error {}

/** items[i], which the caller has counted on; if it is not there, the edit is refused (nothing is written). */
function itemAt<T>(items: readonly T[], i: number): T {
  const item = items[i];
  if (item === undefined) throw new InPlaceEditError('an item out of range');
  return item;
}

/**
 * Writes credentials into the Secret documents at `docIndexes`: the three keys under
 * `stringData` (removed from `data`, and `data` removed when nothing else is left in it),
 * the expiration, refreshed-at and issued-role annotations (issued-role removed when none is
 * given, as `fill` seeds) and the managed label.
 *
 * The edit is made in the source text: every byte outside the keys it writes or removes stays
 * as it was (comments, spacing, quoting, number forms, tags, other documents, line endings).
 * A key that exists gets its value replaced where it is; a missing key is added after the last
 * key of its map, in the map's style (block at the same indentation, or flow with `, `). The
 * result is parsed again and must read back as exactly the intended change; otherwise a
 * ManifestParseError says so and nothing is written.
 */
export function applyCredentialsToManifest(text: string, docIndexes: number[], creds: CapCredentials, refreshedAt: Date, issuedRole?: string): string {
  const docs = parseDocuments(text, true);
  const splices: Splice[] = [];
  const expected = new Map<number, unknown>();
  for (const i of new Set(docIndexes)) {
    const doc = docs[i];
    if (!doc) throw new ManifestParseError(`document ${i} is gone`);
    const namespace = str(doc, ['metadata', 'namespace']) ?? 'default';
    const name = str(doc, ['metadata', 'name']) ?? '';
    checkEditable(doc, namespace, name);
    if (!isMap(doc.contents) || !isMap(doc.getIn(['metadata', 'annotations'], true))) {
      throw new ManifestParseError(`the Secret ${namespace}/${name} has no annotations map`);
    }
    const data = doc.get('data', true);
    const isCredentialKey = (p: Pair) => isScalar(p.key) && (SECRET_CREDENTIAL_KEYS as readonly unknown[]).includes(p.key.value);
    const dataMap = isMap(data) ? data : undefined;
    // As before: the credential keys leave data, and a data map they alone filled goes too.
    const dropData = dataMap !== undefined && dataMap.items.length > 0 && (dataMap.items as Pair[]).every(isCredentialKey);
    const stringData = buildSecretStringData(creds);
    const skew = reportableSkewSeconds(creds.capClockOffsetMs);
    const entries: Entry[] = [
      [
        'metadata',
        {
          entries: [
            [
              'annotations',
              {
                entries: [
                  [ANNOTATION_EXPIRATION, { value: formatRfc3339(creds.expiration) }],
                  [ANNOTATION_REFRESHED_AT, { value: formatRfc3339(refreshedAt) }],
                  [ANNOTATION_ISSUED_ROLE, issuedRole === undefined ? null : { value: issuedRole }],
                  // Quoted: an annotation is a string, and a bare number would be read as an integer. Removed when within 60 s.
                  [ANNOTATION_CLOCK_OFFSET, skew === undefined ? null : { value: String(skew), type: Scalar.QUOTE_DOUBLE }],
                ],
              },
            ],
            ['labels', { entries: [[LABEL_MANAGED, { value: 'true', type: Scalar.QUOTE_DOUBLE }]] }],
          ],
        },
      ],
      ...(dropData ? [['data', null] as Entry] : dataMap ? [['data', { entries: SECRET_CREDENTIAL_KEYS.map((k): Entry => [k, null]) }] as Entry] : []),
      [
        'stringData',
        {
          entries: SECRET_CREDENTIAL_KEYS.map((k): Entry => [k, { value: stringData[k], type: k === 'credentials' ? Scalar.BLOCK_LITERAL : Scalar.PLAIN }]),
        },
      ],
    ];
    try {
      new SourceEditor(text, doc, splices).edit(doc.contents, entries);
    } catch (err) {
      if (!(err instanceof InPlaceEditError)) throw err;
      throw new ManifestParseError(`the Secret ${namespace}/${name} cannot be edited in place (${err.message})`);
    }
    expected.set(i, expectedAfterEdit(doc.toJS({ mapAsMap: true }), entries));
  }
  const out = applySplices(text, splices);
  verifyEdit(out, docs.length, expected);
  return out;
}

/** The document's value as the edit must leave it: `entries` applied to it. */
function expectedAfterEdit(value: unknown, entries: Entry[]): unknown {
  const map = value instanceof Map ? value : new Map<unknown, unknown>();
  for (const [key, v] of entries) {
    if (v === null) map.delete(key);
    else if ('entries' in v) map.set(key, expectedAfterEdit(map.get(key), v.entries));
    else map.set(key, v.value);
  }
  return map;
}

/** Parses the edited text again: it must hold as many documents and read back as intended. */
function verifyEdit(out: string, count: number, expected: Map<number, unknown>): void {
  const failed = (why: string) =>
    new ManifestParseError(`the edit could not be made without changing other content (${why}); the file was left as it was, please report this`);
  let docs: Document.Parsed[];
  try {
    docs = parseDocuments(out, false);
  } catch (err) {
    throw failed(err instanceof ManifestParseError ? 'the result did not parse' : errorMessage(err));
  }
  if (docs.length !== count) throw failed('the number of documents changed');
  for (const [i, want] of expected) {
    if (!isDeepStrictEqual(docs[i]?.toJS({ mapAsMap: true }), want)) throw failed(`document ${i} does not read back as written`);
  }
}

function applySplices(text: string, splices: Splice[]): string {
  // Stable: splices at one offset keep the order they were made in (deeper maps first).
  const sorted = splices.map((s, n) => ({ ...s, n })).sort((a, b) => a.start - b.start || a.end - b.end || a.n - b.n);
  const parts: string[] = [];
  let at = 0;
  let atLineStart = true;
  const push = (part: string) => {
    if (part === '') return;
    parts.push(part);
    atLineStart = part.endsWith('\n');
  };
  for (const s of sorted) {
    if (s.start < at) throw new ManifestParseError('the edit could not be made without changing other content (overlapping changes); please report this');
    push(text.slice(at, s.start));
    if (s.lines === undefined) push(s.text);
    else if (!atLineStart) push(s.lines + s.text);
    else push(s.start === text.length && !text.endsWith('\n') ? s.text : s.text + s.lines);
    at = s.end;
  }
  push(text.slice(at));
  return parts.join('');
}

const last = <T>(xs: readonly T[] | undefined): T | undefined => (xs && xs.length > 0 ? xs[xs.length - 1] : undefined);

/** Where a CST token's text ends (its trailing comments and line break included). */
function tokenEnd(tok: CST.Token): number {
  switch (tok.type) {
    case 'block-scalar':
      return tokenEnd(last(tok.props) ?? { type: 'space', offset: tok.offset, indent: 0, source: '' }) + tok.source.length;
    case 'block-map':
    case 'block-seq': {
      const item = last(tok.items as CST.CollectionItem[]);
      return item ? itemTokensEnd(item) : tok.offset;
    }
    case 'flow-collection':
      return tokenEnd(last(tok.end) ?? tok.start);
    case 'document':
      return tokenEnd(last(tok.end) ?? tok.value ?? last(tok.start) ?? { type: 'space', offset: tok.offset, indent: 0, source: '' });
    case 'scalar':
    case 'alias':
    case 'single-quoted-scalar':
    case 'double-quoted-scalar': {
      const end = last(tok.end);
      return end ? tokenEnd(end) : tok.offset + tok.source.length;
    }
    default:
      return tok.offset + ('source' in tok ? tok.source.length : 0);
  }
}

function itemTokensEnd(item: CST.CollectionItem): number {
  const tok = item.value ?? last(item.sep) ?? item.key ?? last(item.start);
  return tok ? tokenEnd(tok) : 0;
}

/** The end of the first line break among `tokens`, else of the last of them, else `fallback`. */
function throughLineBreak(tokens: readonly CST.Token[] | undefined, fallback: number): number {
  let end = fallback;
  for (const t of tokens ?? []) {
    end = tokenEnd(t);
    if (t.type === 'newline') break;
  }
  return end;
}

/** Splices for one document: finds where each key is and what the text around it looks like. */
class SourceEditor {
  private readonly eol: string;
  private readonly step: number;

  constructor(
    private readonly text: string,
    doc: Document.Parsed,
    private readonly splices: Splice[],
  ) {
    const [from, , to] = doc.range;
    const nl = text.indexOf('\n', from);
    this.eol = (nl >= 0 && nl < to ? text[nl - 1] === '\r' : text.includes('\r\n')) ? '\r\n' : '\n';
    // The indentation step of the document: how far metadata's keys sit right of the top level's.
    const top = doc.contents as YAMLMap;
    const metadata = doc.get('metadata', true);
    let step = 2;
    if (top.srcToken?.type === 'block-map' && isMap(metadata) && metadata.srcToken?.type === 'block-map') {
      const [a, b] = [(top.items[0] as Pair | undefined)?.srcToken, (metadata.items[0] as Pair | undefined)?.srcToken];
      if (a && b) step = this.column(this.itemContentStart(b)) - this.column(this.itemContentStart(a));
    }
    this.step = step > 0 ? step : 2;
  }

  edit(map: YAMLMap, entries: Entry[]): void {
    const tok = map.srcToken;
    if (tok?.type === 'block-map') this.editBlock(map, entries);
    else if (tok?.type === 'flow-collection') this.editFlow(map, tok, entries);
    else throw new InPlaceEditError('a map without source');
  }

  private splice(start: number, end: number, text: string, lines?: string): void {
    this.splices.push({ start, end, text, ...(lines === undefined ? {} : { lines }) });
  }

  private lineStart(pos: number): number {
    return this.text.lastIndexOf('\n', pos - 1) + 1;
  }

  private column(pos: number): number {
    return pos - this.lineStart(pos);
  }

  /** The first token of an item on its own line: a `?`, a tag or anchor of the key, or the key. */
  private itemContentStart(item: CST.CollectionItem): number {
    let first: CST.SourceToken | undefined;
    for (const t of item.start) {
      if (t.type === 'newline' || t.type === 'comment' || t.type === 'comma') first = undefined;
      else if (t.type !== 'space' && !first) first = t;
    }
    const at = first?.offset ?? item.key?.offset;
    if (at === undefined) throw new InPlaceEditError('a key without source');
    return at;
  }

  /** The end of an item's value on the line where it ends (its comment and line break included), or of its nested block. */
  private itemEnd(item: CST.CollectionItem): number {
    const v = item.value;
    const keyEnd = item.key ? tokenEnd(item.key) : this.itemContentStart(item);
    if (!v) return throughLineBreak(item.sep, keyEnd);
    switch (v.type) {
      case 'scalar':
      case 'alias':
      case 'single-quoted-scalar':
      case 'double-quoted-scalar':
        return throughLineBreak(v.end, v.offset + v.source.length);
      case 'flow-collection':
        return throughLineBreak(v.end, v.start.offset + 1);
      default:
        return tokenEnd(v);
    }
  }

  /** A comment after the value on its first line (with the spaces before it), which a rewritten value keeps. */
  private trailingComment(item: CST.CollectionItem): string {
    const v = item.value;
    const afterColon = (item.sep ?? []).slice((item.sep ?? []).findIndex((t) => t.type === 'map-value-ind') + 1);
    const tokens =
      v === undefined || v.type === 'block-map' || v.type === 'block-seq'
        ? afterColon
        : v.type === 'block-scalar'
          ? v.props.slice(1)
          : 'end' in v && Array.isArray(v.end)
            ? (v.end as CST.SourceToken[])
            : [];
    let space = '';
    for (const t of tokens) {
      if (t.type === 'newline') break;
      if (t.type === 'comment') return `${space || ' '}${t.source}`;
      space = t.type === 'space' ? t.source : '';
    }
    return '';
  }

  /** `key: value` lines in block style, as the library writes them at column 0 with this document's step. */
  private renderBlock(entries: Entry[], step = this.step): string[] {
    const doc = new Document();
    doc.contents = toNode(entries) as never;
    return doc
      .toString({ ...YAML_OUTPUT, indent: step })
      .replace(/\n$/, '')
      .split('\n');
  }

  /**
   * renderBlock for lines placed at column `col` just before offset `next`. A block scalar at
   * the end of them would take in the comment lines that follow when those are indented as
   * deep as its content: then its content goes deeper than they are.
   */
  private renderBlockBefore(entries: Entry[], col: number, next: number): string[] {
    const deepest = this.commentIndentAt(next);
    const lines = this.renderBlock(entries);
    let header = lines.length - 1;
    while (header >= 0 && !/[|>][-+1-9]*$/.test(lines[header] ?? '')) header -= 1;
    const content = lines.slice(header + 1).find((l) => l.trim() !== '');
    if (header < 0 || content === undefined) return lines;
    const depth = content.length - content.trimStart().length;
    if (col + depth > deepest) return lines;
    // The content sits `levels` steps right of `col`: the smallest step that puts it deeper than `deepest`.
    const levels = Math.max(1, Math.round(depth / this.step));
    return this.renderBlock(entries, Math.floor((deepest - col) / levels) + 1);
  }

  /**
   * The deepest indentation among the comment and blank lines from `pos` (a line start) to the
   * next other line, -1 if none. A line of n spaces counts as n - 1: a block scalar's content
   * at n or deeper reads it as an empty line, shallower as a line of spaces.
   */
  private commentIndentAt(pos: number): number {
    let deepest = -1;
    const line = /([ \t]*)([^\n]*)(\n|$)/y;
    line.lastIndex = pos;
    for (let m = line.exec(this.text); m && m[0] !== ''; m = line.exec(this.text)) {
      const rest = (m[2] ?? '').replace(/\r$/, '');
      if (rest === '') deepest = Math.max(deepest, (/^ */.exec(m[1] ?? '')?.[0].length ?? 0) - 1);
      else if (!rest.startsWith('#')) break;
      else deepest = Math.max(deepest, (m[1] ?? '').length);
    }
    return deepest;
  }

  /**
   * The end of the comment lines and lines of spaces only from `pos` (a line start) that are
   * indented deeper than column `col`, with the blank lines among them: they sit inside the
   * item of a key at `col` that ends at `pos`. `pos` itself when there are none.
   */
  private throughDeeperComments(pos: number, col: number): number {
    if (pos === 0 || this.text[pos - 1] !== '\n') return pos;
    let end = pos;
    const line = /( *)([^\n]*)(\n|$)/y;
    line.lastIndex = pos;
    for (let m = line.exec(this.text); m && m[0] !== ''; m = line.exec(this.text)) {
      const rest = (m[2] ?? '').replace(/\r$/, '');
      const deeper = (m[1] ?? '').length > col;
      if (/^[ \t]*$/.test(rest)) {
        if (deeper) end = line.lastIndex;
        continue;
      }
      if (!rest.startsWith('#') || !deeper) break;
      end = line.lastIndex;
    }
    return end;
  }

  /** `key: value` in flow style, one string per entry. */
  private renderFlow(entries: Entry[]): string[] {
    return entries.map((entry) => {
      // A block scalar cannot sit in a flow map: there the INI is one double-quoted line.
      const map = toNode([entry], (type) => (type === Scalar.BLOCK_LITERAL ? Scalar.QUOTE_DOUBLE : type));
      map.flow = true;
      const doc = new Document();
      doc.contents = map as never;
      const s = doc.toString({ ...YAML_OUTPUT, doubleQuotedMinMultiLineLength: Number.POSITIVE_INFINITY });
      if (!s.startsWith('{ ') || !s.endsWith(' }\n')) throw new InPlaceEditError('an unexpected flow rendering');
      return s.slice(2, -3);
    });
  }

  private editBlock(map: YAMLMap, entries: Entry[]): void {
    const pairs = map.items as Pair[];
    const firstItem = pairs[0]?.srcToken;
    if (!firstItem) throw new InPlaceEditError('an empty block map');
    const col = this.column(this.itemContentStart(firstItem));
    const indent = ' '.repeat(col);
    const inserts: Entry[] = [];
    /** The removed items (by index) and where each removal starts and ends. */
    const removedEnds = new Map<number, [from: number, end: number]>();
    for (const [key, value] of entries) {
      const pair = findPair(map, key);
      if (!pair) {
        if (value !== null) inserts.push([key, value]);
        continue;
      }
      const item = pair.srcToken;
      if (!item) throw new InPlaceEditError('a key without source');
      if (value !== null && 'entries' in value && isMap(pair.value)) {
        this.edit(pair.value, value.entries);
        continue;
      }
      const start = this.itemContentStart(item);
      const end = this.itemEnd(item);
      if (value === null) {
        const from = this.lineStart(start);
        if (!/^ *$/.test(this.text.slice(from, start))) throw new InPlaceEditError('a key that does not start its line');
        // The comment lines after it that are deeper than its key are inside its item, and go
        // with it: left behind, a block scalar before it would read them as its content.
        const removedEnd = this.throughDeeperComments(end, col);
        this.splice(from, removedEnd, '');
        removedEnds.set(pairs.indexOf(pair), [from, removedEnd]);
        continue;
      }
      const lines = this.renderBlockBefore([[key, value]], col, end);
      const comment = this.trailingComment(item);
      if (comment && (lines.length === 1 || /(:|[|>][-+1-9]*)$/.test(lines[0] ?? ''))) lines[0] += comment;
      const body = lines.map((l, n) => (n === 0 || l === '' ? l : indent + l)).join(this.eol);
      this.splice(start, end, body + (this.text[end - 1] === '\n' ? this.eol : ''));
    }
    // A keep-chomped block scalar (|+, >+) right before a run of removed items would take the
    // blank lines after the run as more of its lines: they go with the run.
    for (const n of removedEnds.keys()) {
      if (removedEnds.has(n - 1) || n === 0) continue;
      // Only while the block reaches the run: a comment line between them ends the block.
      let reach = keepBlockEnd(pairs[n - 1]?.srcToken);
      for (let k = n; removedEnds.has(k); k++) {
        const [from, end] = removedEnds.get(k) ?? [-1, -1];
        if (from !== reach) break;
        const blank = /(?:[ \t]*\r?\n)*/y;
        blank.lastIndex = end;
        blank.exec(this.text);
        if (blank.lastIndex > end) this.splice(end, blank.lastIndex, '');
        reach = blank.lastIndex;
      }
    }
    const added = prune(inserts);
    if (added.length === 0) return;
    const lastItem = last(pairs)?.srcToken;
    if (!lastItem) throw new InPlaceEditError('a key without source');
    // After the comment lines inside the last item (deeper than its key), which stay with it.
    const at = this.throughDeeperComments(this.itemEnd(lastItem), col);
    const body = this.renderBlockBefore(added, col, at)
      .map((l) => (l === '' ? l : indent + l))
      .join(this.eol);
    this.splice(at, at, body, this.eol);
  }

  private editFlow(map: YAMLMap, tok: CST.FlowCollection, entries: Entry[]): void {
    const pairs = map.items as Pair[];
    const items = pairs.map((p) => {
      if (!p.srcToken) throw new InPlaceEditError('a key without source');
      return p.srcToken;
    });
    const removed: number[] = [];
    const inserts: Entry[] = [];
    for (const [key, value] of entries) {
      const pair = findPair(map, key);
      if (!pair) {
        if (value !== null) inserts.push([key, value]);
        continue;
      }
      const n = pairs.indexOf(pair);
      if (value === null) removed.push(n);
      else if ('entries' in value && isMap(pair.value)) this.edit(pair.value, value.entries);
      else this.splice(this.itemContentStart(itemAt(items, n)), this.flowValueEnd(itemAt(items, n)), this.renderFlow([[key, value]]).join(''));
    }
    removed.sort((a, b) => a - b);
    for (let r = 0; r < removed.length; ) {
      let s = r;
      while (s + 1 < removed.length && itemAt(removed, s + 1) === itemAt(removed, s) + 1) s += 1;
      const [a, b] = [itemAt(removed, r), itemAt(removed, s)];
      // Remove the run with the comma after it, or (at the end) the comma before it.
      if (b + 1 < items.length) this.splice(this.itemContentStart(itemAt(items, a)), this.itemContentStart(itemAt(items, b + 1)), '');
      else if (a > 0) this.splice(this.flowValueEnd(itemAt(items, a - 1)), this.flowValueEnd(itemAt(items, b)), '');
      else this.splice(this.itemContentStart(itemAt(items, 0)), this.flowValueEnd(itemAt(items, b)), '');
      r = s + 1;
    }
    const added = prune(inserts);
    if (added.length === 0) return;
    const lastItem = last(items);
    const at = lastItem ? this.flowValueEnd(lastItem) : tok.start.offset + tok.start.source.length;
    this.splice(at, at, (lastItem ? ', ' : '') + this.renderFlow(added).join(', '));
  }

  /** The end of a flow item's value itself (no comma, comment or line break). */
  private flowValueEnd(item: CST.CollectionItem): number {
    const v = item.value;
    if (v?.type === 'flow-collection') {
      const close = v.end.find((t) => t.type === 'flow-map-end' || t.type === 'flow-seq-end');
      if (!close) throw new InPlaceEditError('an unclosed flow collection');
      return close.offset + close.source.length;
    }
    if (v && 'source' in v && v.type !== 'block-scalar') return v.offset + v.source.length;
    if (v) throw new InPlaceEditError('an unexpected value in a flow map');
    const colon = item.sep?.find((t) => t.type === 'map-value-ind');
    if (colon) return colon.offset + colon.source.length;
    if (item.key && 'source' in item.key) return item.key.offset + item.key.source.length;
    throw new InPlaceEditError('a flow key without source');
  }
}

/** Where an item's text ends when it ends with a block scalar that keeps its final line breaks (`|+`, `>+`), its own or that of its last nested item; else undefined. */
function keepBlockEnd(item: CST.CollectionItem | undefined): number | undefined {
  const v = item?.value;
  if (v?.type === 'block-scalar') return v.props.some((t) => t.type === 'block-scalar-header' && t.source.includes('+')) ? tokenEnd(v) : undefined;
  if (v?.type === 'block-map' || v?.type === 'block-seq') return keepBlockEnd(last(v.items as CST.CollectionItem[]));
  return undefined;
}

function findPair(map: YAMLMap, key: string): Pair | undefined {
  return (map.items as Pair[]).find((p) => isScalar(p.key) && p.key.value === key);
}

/** Entries without the removals (null) and without maps left empty by them. */
function prune(entries: Entry[]): Entry[] {
  const out: Entry[] = [];
  for (const [key, value] of entries) {
    if (value === null) continue;
    if ('entries' in value) {
      const inner = prune(value.entries);
      if (inner.length > 0) out.push([key, { entries: inner }]);
    } else out.push([key, value]);
  }
  return out;
}

function toNode(entries: Entry[], styleOf: (type: Scalar.Type | undefined) => Scalar.Type | undefined = (t) => t): YAMLMap {
  const map = new YAMLMap();
  for (const [key, value] of prune(entries)) {
    if (value === null) continue;
    let node: Scalar | YAMLMap;
    if ('entries' in value) node = toNode(value.entries, styleOf);
    else {
      node = new Scalar(value.value);
      const type = styleOf(value.type);
      if (type) node.type = type;
    }
    map.items.push(new Pair(new Scalar(key), node));
  }
  return map;
}
