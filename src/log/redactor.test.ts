import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Secret } from '../core/secret.js';
import { createLogger } from './logger.js';
import { Redactor } from './redactor.js';

describe('Redactor', () => {
  const r = new Redactor();
  r.add('registered-secret-value-123', 'line one of a key\nline two of a private key');

  it.each([
    ['a registered value', 'token=registered-secret-value-123 end', 'token=[REDACTED] end'],
    ['one line of a registered multi-line value', 'x line two of a private key y', 'x [REDACTED] y'],
    ['an access key id, keeping its last four', 'key ASIAABCDEFGHIJKL7890 used', 'key …7890 used'],
    ['a PEM block', 'a -----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY----- b', 'a [REDACTED PEM] b'],
    ['an INI secret line', 'aws_secret_access_key = abc/def', 'aws_secret_access_key = [REDACTED]'],
    ['a JSON secret field', '{"SessionToken": "abc"}', '{"SessionToken": "[REDACTED]"}'],
    ['plain text', 'refreshed openshift-machine-api/aws-cloud-credentials', 'refreshed openshift-machine-api/aws-cloud-credentials'],
  ])('removes %s', (_, input, output) => expect(r.redact(input)).toBe(output));

  it('redacts a registered value whatever its length, a 3-character passphrase too', () => {
    const short = new Redactor();
    short.add('k9Q', 'x');
    expect(short.redact('pass k9Q and x')).toBe('pass [REDACTED] and [REDACTED]');
  });

  it('takes a Secret, and leaves text it already redacted as it is', () => {
    const r2 = new Redactor();
    r2.add(new Secret('a-secret-value'), 'RED', 'ACT');
    const once = r2.redact('v=a-secret-value RED');
    expect(once).toBe('v=[REDACTED] [REDACTED]');
    expect(r2.redact(once)).toBe(once);
  });

  it('treats registered values as text, not as patterns', () => {
    const r2 = new Redactor();
    r2.add('a.c', '(x|y)*');
    expect(r2.redact('abc a.c (x|y)* x')).toBe('abc [REDACTED] [REDACTED] x');
  });

  it('guards a stream: strings and bytes written to it are redacted', () => {
    const r2 = new Redactor();
    r2.add('zz9');
    const chunks: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        chunks.push(chunk.toString('utf8'));
        done();
      },
    });
    r2.guardStream(stream);
    r2.guardStream(stream);
    stream.write('a zz9 b\n');
    stream.write(Buffer.from('c zz9 d\n'));
    r2.reveal(() => stream.write('e zz9\n'));
    stream.write('f zz9\n');
    expect(chunks.join('')).toBe('a [REDACTED] b\nc [REDACTED] d\ne zz9\nf [REDACTED]\n');
  });
});

describe('createLogger', () => {
  it('redacts the whole line, fields included, in both formats', () => {
    for (const format of ['json', 'text'] as const) {
      const lines: string[] = [];
      const redactor = new Redactor();
      redactor.add('planted-secret-XYZ-0001');
      const log = createLogger({ write: (l) => lines.push(l), format, level: 'info', redactor, now: () => new Date(0) });
      log.info('message with planted-secret-XYZ-0001', { error: 'field planted-secret-XYZ-0001' });
      log.debug('not shown at info');
      expect(lines).toHaveLength(1);
      expect(lines[0]).not.toContain('planted-secret-XYZ-0001');
      expect(lines[0]).toContain('[REDACTED]');
      if (format === 'json') expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'info', time: '1970-01-01T00:00:00.000Z' });
    }
  });
});
