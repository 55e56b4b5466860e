import { inspect } from 'node:util';

const REDACTED = '[REDACTED]';

/**
 * A value that must never be printed: a CAP credential, a private key, a passphrase. Its
 * string, JSON and `util.inspect` forms are `[REDACTED]`, so a template literal, a log field,
 * `JSON.stringify` of a result or an error message built from it shows nothing. The value
 * comes out only through `reveal()`, called where it is written: the Secret, the manifest,
 * the credentials file, the credential_process output, and the TLS or crypto call that uses it.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The value itself; call only where it is written or used, never to build a message. */
  reveal(): string {
    return this.#value;
  }

  get length(): number {
    return this.#value.length;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [Symbol.toPrimitive](): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}

/** The value of a secret or a plain string, for the few writers that take either. */
export function revealed(value: Secret | string): string {
  return typeof value === 'string' ? value : value.reveal();
}
