import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CREDENTIALS_REQUESTS } from '../../test/support/fixtures.js';
import { parseCredentialsRequests, type ParsedCredentialsRequests } from './credentials-requests.js';
import { ManifestsError } from './errors.js';

// Property tests (fuzzing) of the CredentialsRequest parser: generated YAML-ish text and
// mutated real CredentialsRequests end in a result or a ManifestsError, never another exception.

const FIXTURE_DIR = CREDENTIALS_REQUESTS;
const FIXTURES = readdirSync(FIXTURE_DIR)
  .filter((n) => n.endsWith('.yaml'))
  .sort()
  .map((n) => ({ source: n, text: readFileSync(join(FIXTURE_DIR, n), 'utf8') }));

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Runs the parser; anything thrown must be a ManifestsError. */
function parseOrTypedError(sources: { source: string; text: string }[]): ParsedCredentialsRequests | ManifestsError {
  try {
    return parseCredentialsRequests(sources);
  } catch (err) {
    expect(err).toBeInstanceOf(ManifestsError);
    expect((err as ManifestsError).problems.length + (err as Error).message.length).toBeGreaterThan(0);
    return err as ManifestsError;
  }
}

/** A result is only ever made of requests that passed validation. */
function expectValid(result: ParsedCredentialsRequests): void {
  for (const r of result.aws) {
    expect(r.secretRef.namespace).toMatch(DNS_LABEL);
    expect(r.secretRef.name.length).toBeGreaterThan(0);
    expect(r.statementEntries.length).toBeGreaterThan(0);
    for (const e of r.statementEntries) expect(['Allow', 'Deny']).toContain(e.effect);
  }
}

/** Pieces YAML parsers trip over: indicators, anchors, aliases, tags, tabs, documents, flow. */
const yamlToken = fc.oneof(
  fc.constantFrom(
    'apiVersion: cloudcredential.openshift.io/v1',
    'kind: CredentialsRequest',
    'metadata:',
    '  name: x',
    'spec:',
    '  secretRef:',
    '    name: s',
    '    namespace: ns',
    '  providerSpec:',
    '    kind: AWSProviderSpec',
    '    statementEntries:',
    '    - effect: Allow',
    '      action:',
    '      - ec2:*',
    '      resource: "*"',
    '---',
    '...',
    '- ',
    '? ',
    ': ',
    '&a ',
    '*a',
    '!!binary ',
    '!!str',
    '!local',
    '|',
    '>-',
    '{',
    '}',
    '[',
    ']',
    ',',
    '"',
    "'",
    '#',
    '\t',
    '%YAML 1.2',
    '%TAG ! tag:x,2000:',
    '<<: *a',
    '~',
    'null',
    '0x1F',
    '.inf',
    '\ufeff',
    '\r',
  ),
  fc.string({ maxLength: 6 }),
);
const yamlishLine = fc
  .tuple(fc.integer({ min: 0, max: 6 }), fc.array(yamlToken, { maxLength: 4 }))
  .map(([indent, parts]) => ' '.repeat(indent) + parts.join(''));
const yamlishText = fc.array(yamlishLine, { maxLength: 30 }).map((lines) => lines.join('\n'));

type Mutation =
  | { op: 'delete-line' | 'duplicate-line' | 'dedent' | 'indent'; line: number }
  | { op: 'swap-lines'; line: number; other: number }
  | { op: 'insert-line'; line: number; text: string }
  | { op: 'truncate' | 'delete-char'; at: number }
  | { op: 'insert-char'; at: number; text: string };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constantFrom('delete-line' as const, 'duplicate-line' as const, 'dedent' as const, 'indent' as const), line: fc.nat() }),
  fc.record({ op: fc.constant('swap-lines' as const), line: fc.nat(), other: fc.nat() }),
  fc.record({ op: fc.constant('insert-line' as const), line: fc.nat(), text: yamlishLine }),
  fc.record({ op: fc.constantFrom('truncate' as const, 'delete-char' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('insert-char' as const), at: fc.nat(), text: yamlToken }),
);

function mutate(text: string, mutations: Mutation[]): string {
  let t = text;
  for (const m of mutations) {
    const lines = t.split('\n');
    if ('line' in m) {
      const i = m.line % lines.length;
      if (m.op === 'delete-line') lines.splice(i, 1);
      else if (m.op === 'duplicate-line') lines.splice(i, 0, lines[i]!);
      else if (m.op === 'dedent') lines[i] = lines[i]!.replace(/^ {1,2}/, '');
      else if (m.op === 'indent') lines[i] = `  ${lines[i]}`;
      else if (m.op === 'swap-lines') {
        const j = m.other % lines.length;
        [lines[i], lines[j]] = [lines[j]!, lines[i]!];
      } else if (m.op === 'insert-line') lines.splice(i, 0, m.text);
      t = lines.join('\n');
    } else {
      const at = m.at % (t.length + 1);
      if (m.op === 'truncate') t = t.slice(0, at);
      else if (m.op === 'delete-char') t = t.slice(0, at) + t.slice(at + 1);
      else if (m.op === 'insert-char') t = t.slice(0, at) + m.text + t.slice(at);
    }
  }
  return t;
}

describe('parseCredentialsRequests (property)', () => {
  it('reads every fixture as it is', () => {
    for (const f of FIXTURES) {
      const result = parseOrTypedError([f]);
      if (f.source === 'aws-efs-csi-driver.yaml') {
        // The one template in the fixtures: its namespace is a placeholder.
        expect(result).toMatchObject({ code: 'invalid-credentials-request', message: expect.stringContaining('template placeholder') });
        continue;
      }
      if (result instanceof ManifestsError) throw result;
      expect(result.aws.length + result.others.length, f.source).toBeGreaterThan(0);
      expectValid(result);
    }
    expect(FIXTURES.length).toBeGreaterThanOrEqual(10);
  });

  it('ends generated YAML-ish text in a result or a ManifestsError', () => {
    let errors = 0;
    fc.assert(
      fc.property(yamlishText, (text) => {
        const r = parseOrTypedError([{ source: 'gen.yaml', text }]);
        if (r instanceof ManifestsError) errors += 1;
        else expectValid(r);
      }),
      { numRuns: 3000 },
    );
    expect(errors).toBeGreaterThan(300);
  });

  it('ends mutated real CredentialsRequests in a result or a ManifestsError', () => {
    const outcomes = { result: 0, 'invalid-yaml': 0, 'invalid-credentials-request': 0 } as Record<string, number>;
    fc.assert(
      fc.property(fc.constantFrom(...FIXTURES), fc.array(mutation, { minLength: 1, maxLength: 5 }), (f, mutations) => {
        const r = parseOrTypedError([{ source: f.source, text: mutate(f.text, mutations) }]);
        if (r instanceof ManifestsError) {
          outcomes[r.code] = (outcomes[r.code] ?? 0) + 1;
          // The message names the input it is about.
          expect(r.message).toContain(f.source);
        } else {
          outcomes.result! += 1;
          expectValid(r);
        }
      }),
      { numRuns: 2500 },
    );
    // The mutations reach all three endings, each many times.
    for (const [k, n] of Object.entries(outcomes)) expect(n, k).toBeGreaterThan(100);
  });

  it('ends alias bombs, deep nesting and huge scalars in a result or a ManifestsError, quickly', () => {
    const bomb = [
      'a: &a ["x","x","x","x","x","x","x","x","x"]',
      ...Array.from(
        { length: 9 },
        (_, i) =>
          `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9)
            .fill(`*${String.fromCharCode(97 + i)}`)
            .join(',')}]`,
      ),
    ].join('\n');
    const inputs = [
      `apiVersion: v1\nkind: CredentialsRequest\n${bomb}\n`,
      `${'['.repeat(5000)}${']'.repeat(5000)}`,
      `${'- '.repeat(2000)}x`,
      `metadata:\n  name: ${'a'.repeat(1_000_000)}\n`,
      `kind: CredentialsRequest\nspec:\n  providerSpec:\n    kind: AWSProviderSpec\n    statementEntries: *nothing\n`,
    ];
    for (const text of inputs) {
      const started = Date.now();
      parseOrTypedError([{ source: 'bomb.yaml', text }]);
      expect(Date.now() - started).toBeLessThan(5000);
    }
  });
});
