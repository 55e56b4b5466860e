import { isMap, isScalar, LineCounter, parseAllDocuments, Scalar, visit, type Document } from 'yaml';
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
import { formatRfc3339 } from '../core/policy.js';
import { findSecretDataProblem } from '../core/secret-data.js';
import { parseClockOffset, reportableSkewSeconds } from '../core/clock-skew.js';

/** A managed Secret found in a manifest file: what the refresh needs to decide and to report. */
export interface ManagedSecretManifest {
  /** Index of the YAML document in the file. */
  docIndex: number;
  namespace: string;
  name: string;
  role: string;
  agency?: string;
  mission?: string;
  account?: string;
  expiration?: string;
  refreshedAt?: string;
  issuedRole?: string;
  /** CAP's clock minus the refreshing node's at the last refresh, when over 60 s. */
  clockOffsetSeconds?: number;
  /** Why the data cannot serve (key names only); undefined when it can. */
  dataProblem?: string;
}

export class ManifestParseError extends Error {
  override name = 'ManifestParseError';
}

const YAML_OUTPUT = { lineWidth: 0, minContentWidth: 0 } as const;

function parseDocuments(text: string): Document.Parsed[] {
  // uniqueKeys: false, because the library's own check compares every key with every other
  // (a Secret with 32,000 keys took 31 s); findDuplicateKey does it with a Set instead.
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { prettyErrors: true, uniqueKeys: false, lineCounter });
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
      // Finds what the parser lets through but cannot be used or written back: an alias to
      // no anchor, aliases that expand too far (an alias bomb), a !!binary that is not base64.
      // mapAsMap: a key that is itself a map is legal YAML; as a Map it needs no string form (and no warning).
      doc.toJS({ mapAsMap: true });
      doc.toString(YAML_OUTPUT);
    } catch (err) {
      throw new ManifestParseError(
        `it is not valid YAML: ${/alias/i.test(errorMessage(err)) ? 'an alias (*name) that names no anchor or expands too far' : 'a value cannot be read back (a tag such as !!binary on the wrong value?)'}`,
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

/** The Secrets in a manifest text that carry the role annotation. Throws ManifestParseError on bad YAML. */
export function findManagedSecrets(text: string): ManagedSecretManifest[] {
  const found: ManagedSecretManifest[] = [];
  parseDocuments(text).forEach((doc, docIndex) => {
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

/**
 * Writes credentials into the Secret documents at `docIndexes`: the three keys under
 * `stringData` (removed from `data`), the expiration, refreshed-at and issued-role annotations
 * (issued-role removed when none is given, as `fill` seeds) and the managed label. Comments,
 * key order and every other key stay as they were.
 */
export function applyCredentialsToManifest(text: string, docIndexes: number[], creds: CapCredentials, refreshedAt: Date, issuedRole?: string): string {
  const docs = parseDocuments(text);
  for (const i of docIndexes) {
    const doc = docs[i];
    if (!doc) throw new ManifestParseError(`document ${i} is gone`);
    checkEditable(doc, str(doc, ['metadata', 'namespace']) ?? 'default', str(doc, ['metadata', 'name']) ?? '');
    for (const path of EDITED_MAPS) if (doc.getIn(path, true) !== undefined && !isMap(doc.getIn(path, true))) doc.deleteIn(path);
    const stringData = buildSecretStringData(creds);
    for (const key of SECRET_CREDENTIAL_KEYS) {
      const value = new Scalar(stringData[key]);
      if (key === 'credentials') value.type = Scalar.BLOCK_LITERAL;
      else value.type = Scalar.PLAIN;
      doc.setIn(['stringData', key], value);
      if (doc.hasIn(['data', key])) doc.deleteIn(['data', key]);
    }
    const data = doc.get('data');
    if (isMap(data) && data.items.length === 0) doc.delete('data');
    doc.setIn(['metadata', 'annotations', ANNOTATION_EXPIRATION], formatRfc3339(creds.expiration));
    doc.setIn(['metadata', 'annotations', ANNOTATION_REFRESHED_AT], formatRfc3339(refreshedAt));
    if (issuedRole !== undefined) doc.setIn(['metadata', 'annotations', ANNOTATION_ISSUED_ROLE], issuedRole);
    else if (doc.hasIn(['metadata', 'annotations', ANNOTATION_ISSUED_ROLE])) doc.deleteIn(['metadata', 'annotations', ANNOTATION_ISSUED_ROLE]);
    const skew = reportableSkewSeconds(creds.capClockOffsetMs);
    if (skew !== undefined) {
      // Quoted: an annotation is a string, and a bare number would be read as an integer.
      const offset = new Scalar(String(skew));
      offset.type = Scalar.QUOTE_DOUBLE;
      doc.setIn(['metadata', 'annotations', ANNOTATION_CLOCK_OFFSET], offset);
    } else if (doc.hasIn(['metadata', 'annotations', ANNOTATION_CLOCK_OFFSET])) doc.deleteIn(['metadata', 'annotations', ANNOTATION_CLOCK_OFFSET]);
    const managed = new Scalar('true');
    managed.type = Scalar.QUOTE_DOUBLE;
    doc.setIn(['metadata', 'labels', LABEL_MANAGED], managed);
  }
  return joinDocuments(text, docs);
}

/** Re-serialises the documents, keeping a leading `---` if the file had one. */
function joinDocuments(original: string, docs: Document.Parsed[]): string {
  const out = docs.map((d) => d.toString(YAML_OUTPUT));
  const startsWithMarker = /^(\s*#.*\n)*\s*---/.test(original);
  return out.map((s, i) => (i === 0 && !startsWithMarker ? s : s.startsWith('---') ? s : `---\n${s}`)).join('');
}
