import { scrubUrls } from '../core/display-url.js';
import { Secret } from '../core/secret.js';

const REDACTED = '[REDACTED]';
const REDACTED_PEM = '[REDACTED PEM]';
const MARKERS = /(\[REDACTED(?: PEM)?\])/;
const GUARDED = Symbol('cap-token-refresh.redacted');

/**
 * Removes secrets from any text before it leaves the process: the second line of defence
 * behind the `Secret` type, which never prints its value. Values are registered as they
 * become known (CAP credentials, passphrases, key material), whatever their length; patterns
 * catch what was never registered: access key ids (only their last four characters survive),
 * PEM blocks, secret-looking INI or JSON fields, and the userinfo and query of any URL
 * (scrubUrls: what displayUrl would have printed). `guard` wraps a writer so that all it
 * writes passes through here; the entry point wraps stdout and stderr once, at start.
 */
export class Redactor {
  private readonly secrets = new Set<string>();
  private pattern: RegExp | undefined;
  private revealing = false;

  /** Registers values that must never be printed, of any length (a 3-character passphrase too). */
  add(...values: (Secret | string | undefined)[]): void {
    for (const value of values) {
      if (value === undefined) continue;
      const v = value instanceof Secret ? value.reveal() : value;
      this.register(v);
      const trimmed = v.trim();
      this.register(trimmed);
      // Multi-line values (keys, INI bodies) are registered line by line too; a short line
      // of a long value (a PEM footer's padding) is left to the PEM pattern.
      if (/\r?\n/.test(trimmed)) for (const line of trimmed.split(/\r?\n/)) if (line.trim().length >= 12) this.register(line.trim());
    }
  }

  private register(v: string): void {
    if (v === '' || this.secrets.has(v)) return;
    this.secrets.add(v);
    this.pattern = undefined;
  }

  redact(text: string): string {
    let out = text;
    if (this.secrets.size > 0) {
      // One pass, longest first, so a value that contains another is replaced whole and a
      // replacement is never searched again; text already redacted (a second pass over
      // the same line) is left as it is, even when a short secret occurs in "[REDACTED]".
      this.pattern ??= new RegExp(
        [...this.secrets]
          .sort((a, b) => b.length - a.length)
          .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
          .join('|'),
        'g',
      );
      const pattern = this.pattern;
      out = out
        .split(MARKERS)
        .map((part) => (part === REDACTED || part === REDACTED_PEM ? part : part.replace(pattern, REDACTED)))
        .join('');
    }
    return scrubUrls(out)
      .replace(/-----BEGIN [A-Z0-9 ]+-----[\s\S]*?(-----END [A-Z0-9 ]+-----|$)/g, '[REDACTED PEM]')
      .replace(/\b(?:AKIA|ASIA|AIDA|AROA)[A-Z0-9]{8,}([A-Z0-9]{4})\b/g, '…$1')
      .replace(/(aws_secret_access_key|aws_session_token)(\s*[=:]\s*)\S+/gi, '$1$2[REDACTED]')
      .replace(/("(?:SecretAccessKey|SessionToken|AccessKeyId)"\s*:\s*)"[^"]*"/g, '$1"[REDACTED]"');
  }

  /**
   * Runs `write` with the guards of `guardStream` lifted: for the one output whose purpose is
   * a secret (the credential_process JSON on stdout). `write` must write synchronously.
   */
  reveal(write: () => void): void {
    this.revealing = true;
    try {
      write();
    } finally {
      this.revealing = false;
    }
  }

  /** A writer that redacts everything before handing it to `write`. */
  guard<R>(write: (text: string) => R): (text: string) => R {
    return (text) => write(this.redact(text));
  }

  /**
   * Wraps a stream's `write` (process.stdout, process.stderr) so that whatever writes to it
   * (commands, commander's help and errors, a library's warning) passes through the redactor.
   * Idempotent: a stream is wrapped once.
   */
  guardStream(stream: NodeJS.WritableStream): void {
    const marked = stream as NodeJS.WritableStream & { [GUARDED]?: true };
    if (marked[GUARDED]) return;
    const original = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
    const redact = (chunk: unknown): unknown => {
      if (this.revealing) return chunk;
      if (typeof chunk === 'string') return this.redact(chunk);
      if (chunk instanceof Uint8Array) {
        return Buffer.from(this.redact(Buffer.from(chunk).toString('utf8')), 'utf8');
      }
      return chunk;
    };
    stream.write = ((chunk: unknown, ...rest: unknown[]) => original(redact(chunk), ...rest)) as typeof stream.write;
    marked[GUARDED] = true;
  }
}
