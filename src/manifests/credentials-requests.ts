import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { ManifestsError } from './errors.js';

/** One input text and the name used for it in messages (a file path, or `<stdin>`). */
export interface SourceText {
  source: string;
  text: string;
}

/** One `statementEntries` item of an AWSProviderSpec; values keep their YAML types. */
export interface StatementEntry {
  effect: 'Allow' | 'Deny';
  action: string[];
  resource: string | string[];
  policyCondition?: Record<string, Record<string, unknown>>;
}

/** An AWS CredentialsRequest, reduced to what generate uses. */
export interface AwsCredentialsRequest {
  source: string;
  /** metadata.name of the CredentialsRequest. */
  name: string;
  annotations: Record<string, string>;
  secretRef: { namespace: string; name: string };
  statementEntries: StatementEntry[];
}

/** A document that is not an AWS CredentialsRequest, kept only to say why it was left out. */
export interface OtherDocument {
  source: string;
  kind: string;
  name: string;
  reason: string;
}

export interface ParsedCredentialsRequests {
  aws: AwsCredentialsRequest[];
  others: OtherDocument[];
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const namespaceName = z
  .string()
  .max(63)
  .regex(DNS1123_LABEL, { error: (issue) => `${JSON.stringify(issue.input)} is not a valid namespace name${placeholderHint(issue.input)}` });
const objectName = z
  .string()
  .max(253)
  .regex(DNS1123_SUBDOMAIN, { error: (issue) => `${JSON.stringify(issue.input)} is not a valid object name${placeholderHint(issue.input)}` });

function placeholderHint(value: unknown): string {
  return typeof value === 'string' && value.includes('${') ? ' (a template placeholder: substitute it first)' : '';
}

const statementEntrySchema = z.object({
  effect: z.enum(['Allow', 'Deny']),
  action: z.array(z.string().min(1)).min(1),
  resource: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  policyCondition: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
});

const awsCredentialsRequestSchema = z.object({
  apiVersion: z.literal('cloudcredential.openshift.io/v1'),
  kind: z.literal('CredentialsRequest'),
  metadata: z.object({
    name: objectName,
    annotations: z.record(z.string(), z.string()).optional(),
  }),
  spec: z.object({
    secretRef: z.object({ namespace: namespaceName, name: objectName }),
    providerSpec: z.object({
      kind: z.literal('AWSProviderSpec'),
      statementEntries: z.array(statementEntrySchema).min(1),
    }),
  }),
});

/** Reads every document of every source; AWS CredentialsRequests are validated, the rest set aside. */
export function parseCredentialsRequests(sources: readonly SourceText[]): ParsedCredentialsRequests {
  const aws: AwsCredentialsRequest[] = [];
  const others: OtherDocument[] = [];
  const problems: string[] = [];
  for (const { source, text } of sources) {
    parseYamlDocuments(source, text).forEach((doc, index) => {
      const where = `${source}: document ${index + 1}`;
      const classified = classifyDocument(doc);
      if (classified.kind !== 'aws') {
        if (classified.kind === 'other') others.push({ source, ...classified.document });
        return;
      }
      const parsed = awsCredentialsRequestSchema.safeParse(doc);
      if (!parsed.success) {
        const label = `${where} (${nameOf(doc) ?? 'unnamed'})`;
        problems.push(...parsed.error.issues.map((issue) => `${label}: ${issue.path.join('.') || '(document)'}: ${issue.message}`));
        return;
      }
      const { metadata, spec } = parsed.data;
      aws.push({
        source,
        name: metadata.name,
        annotations: metadata.annotations ?? {},
        secretRef: spec.secretRef,
        statementEntries: spec.providerSpec.statementEntries.map(toStatementEntry),
      });
    });
  }
  if (problems.length > 0) {
    throw new ManifestsError('invalid-credentials-request', 'Some AWS CredentialsRequests are not valid:', problems);
  }
  return { aws, others };
}

function parseYamlDocuments(source: string, text: string): unknown[] {
  const docs = parseAllDocuments(text, { prettyErrors: true });
  const list = Array.isArray(docs) ? docs : [];
  const problems = list.flatMap((doc) =>
    doc.errors.map((error) => {
      const position = error.linePos?.[0];
      const at = position ? `${source}:${position.line}:${position.col}` : source;
      return `${at}: ${error.message.split('\n')[0]}`;
    }),
  );
  if (problems.length > 0) throw new ManifestsError('invalid-yaml', `${source} is not valid YAML:`, problems);
  return list
    .map((doc, index) => {
      try {
        return doc.toJS();
      } catch (error) {
        // An alias to no anchor, or one that expands too far (yaml's guard against alias bombs).
        throw new ManifestsError('invalid-yaml', `${source} is not valid YAML:`, [
          `${source}: document ${index + 1}: ${(error as Error).message.split('\n')[0]}`,
        ]);
      }
    })
    .filter((value) => value !== null && value !== undefined);
}

type Classified = { kind: 'aws' } | { kind: 'other'; document: Omit<OtherDocument, 'source'> } | { kind: 'ignored' };

function classifyDocument(doc: unknown): Classified {
  if (!isRecord(doc)) return { kind: 'ignored' };
  const kind = typeof doc.kind === 'string' ? doc.kind : '(no kind)';
  const name = nameOf(doc) ?? '(unnamed)';
  if (kind !== 'CredentialsRequest') {
    return { kind: 'other', document: { kind, name, reason: `not a CredentialsRequest (kind ${kind})` } };
  }
  const spec = isRecord(doc.spec) ? doc.spec : {};
  const providerKind = isRecord(spec.providerSpec) ? spec.providerSpec.kind : undefined;
  if (providerKind === 'AWSProviderSpec') return { kind: 'aws' };
  return {
    kind: 'other',
    document: { kind, name, reason: `not for AWS (providerSpec.kind ${String(providerKind ?? 'missing')})` },
  };
}

function toStatementEntry(entry: z.infer<typeof statementEntrySchema>): StatementEntry {
  return {
    effect: entry.effect,
    action: entry.action,
    resource: entry.resource,
    ...(entry.policyCondition ? { policyCondition: entry.policyCondition } : {}),
  };
}

function nameOf(doc: unknown): string | undefined {
  if (!isRecord(doc) || !isRecord(doc.metadata)) return undefined;
  return typeof doc.metadata.name === 'string' ? doc.metadata.name : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
