import { describe, expect, it } from 'vitest';
import { renderKubernetesYaml } from './render.js';

describe('renderKubernetesYaml', () => {
  it('puts apiVersion, kind and metadata first, quotes YAML 1.1 look-alikes and never wraps', () => {
    const long = 'x '.repeat(100).trim();
    const text = renderKubernetesYaml({
      data: { yes: 'on', mode: '0440', flag: 'true', empty: '', long },
      metadata: { name: 'cm' },
      kind: 'ConfigMap',
      apiVersion: 'v1',
    });
    expect(text).toBe(
      [
        'apiVersion: v1',
        'kind: ConfigMap',
        'metadata:',
        '  name: cm',
        'data:',
        '  "yes": "on"',
        '  mode: "0440"',
        '  flag: "true"',
        '  empty: ""',
        `  long: ${long}`,
        '',
      ].join('\n'),
    );
  });

  it('writes multi-line strings as literal blocks', () => {
    const text = renderKubernetesYaml({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, stringData: { pem: 'a\nb\n' } });
    expect(text).toContain('stringData:\n  pem: |\n    a\n    b\n');
  });
});
