// Text shown to a person (the text report, the text log, error lines) must not let a value
// it quotes start a new line, move the cursor or recolour the terminal: a role, agency or
// mission comes from a Secret's annotations, a manifest or the command line, and
// `role\nrefreshed ...` or `\x1b[2K` would forge what the report says. JSON output escapes
// these itself.

// C0 controls, DEL, C1 controls, and the Unicode line and paragraph separators.
const CONTROL = /[\p{Cc}\u2028\u2029]/gu;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** TEXT with every control character written as an escape (`\n`, `\r`, `\t`, `\x1b`, `\u2028`): one line, nothing the terminal acts on. */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, (c) => {
    const named = NAMED[c];
    if (named) return named;
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** Each line of TEXT escaped on its own: for output made of lines (a report), whose values may not add lines. */
export function escapeControlLines(text: string): string {
  return text
    .split('\n')
    .map((line) => escapeControl(line))
    .join('\n');
}
