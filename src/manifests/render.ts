import { Document, isScalar } from 'yaml';

/** A Kubernetes object as plain data; rendered with apiVersion, kind and metadata first. */
export interface KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** A comment placed after one scalar value, found by its path in the object. */
export interface ValueComment {
  path: (string | number)[];
  text: string;
}

/**
 * Pinned output options: YAML 1.1 rules when quoting (so `"true"`, `"on"`, `"0440"` stay
 * strings for Kubernetes' YAML 1.1 reader), two-space indent, sequences not indented
 * (the style of `oc` output), no line wrapping. The same object gives the same bytes.
 */
const YAML_OPTIONS = { indent: 2, indentSeq: false, lineWidth: 0, minContentWidth: 0 } as const;

export function renderKubernetesYaml(object: KubernetesObject, comments: readonly ValueComment[] = []): string {
  const { apiVersion, kind, metadata, ...rest } = object;
  const doc = new Document({ apiVersion, kind, metadata, ...rest }, { version: '1.1' });
  for (const comment of comments) {
    const node = doc.getIn(comment.path, true);
    if (!isScalar(node)) throw new Error(`no scalar at ${comment.path.join('.')} to comment`);
    node.comment = ` ${comment.text}`;
  }
  return doc.toString(YAML_OPTIONS);
}

/** JSON with two-space indent and a final newline; key order is the order the value was built in. */
export function renderJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
