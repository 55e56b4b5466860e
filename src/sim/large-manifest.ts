import { MAX_MANIFEST_BYTES } from '../disk/read-manifest-file.js';

/**
 * A managed Secret manifest with as many small `data` keys as fit under `bytes` (default:
 * just under the 1 MiB a Secret can be): the worst case for parsing, used by the benchmark
 * and the parsing tests.
 */
export function largeSecretManifest(bytes = MAX_MANIFEST_BYTES - 64): { text: string; keys: number } {
  const head = [
    'apiVersion: v1',
    'kind: Secret',
    'metadata:',
    '  name: many-keys',
    '  namespace: ns',
    '  annotations:',
    '    cap-token-refresh/role: role-many',
    'data:',
    '',
  ].join('\n');
  const lines: string[] = [];
  let size = head.length;
  for (let i = 0; ; i++) {
    const line = `  k${i}: dmFsdWU=\n`;
    if (size + line.length > bytes) break;
    lines.push(line);
    size += line.length;
  }
  return { text: head + lines.join(''), keys: lines.length };
}
