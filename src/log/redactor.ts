/**
 * Removes secrets from any text before it leaves the process. Values are registered as
 * they become known (CAP credentials, passphrases, key material); patterns catch what was
 * never registered: access key ids (only their last four characters survive), PEM blocks,
 * and secret-looking INI or JSON fields.
 */
export class Redactor {
  private readonly secrets = new Set<string>();

  /** Registers a value that must never be printed. Short values are ignored to avoid mangling text. */
  add(...values: (string | undefined)[]): void {
    for (const v of values) {
      if (v === undefined) continue;
      const trimmed = v.trim();
      if (trimmed.length >= 6) this.secrets.add(trimmed);
      // Multi-line values (keys, INI bodies) are registered line by line too.
      for (const line of trimmed.split(/\r?\n/)) if (line.trim().length >= 12) this.secrets.add(line.trim());
    }
  }

  redact(text: string): string {
    let out = text;
    // Longest first, so a value that contains another is replaced whole.
    for (const s of [...this.secrets].sort((a, b) => b.length - a.length)) {
      if (out.includes(s)) out = out.split(s).join('[REDACTED]');
    }
    return out
      .replace(/-----BEGIN [A-Z0-9 ]+-----[\s\S]*?(-----END [A-Z0-9 ]+-----|$)/g, '[REDACTED PEM]')
      .replace(/\b(?:AKIA|ASIA|AIDA|AROA)[A-Z0-9]{8,}([A-Z0-9]{4})\b/g, '…$1')
      .replace(/(aws_secret_access_key|aws_session_token)(\s*[=:]\s*)\S+/gi, '$1$2[REDACTED]')
      .replace(/("(?:SecretAccessKey|SessionToken|AccessKeyId)"\s*:\s*)"[^"]*"/g, '$1"[REDACTED]"');
  }
}
