// Errors of the manifests core and the generate command. Each carries every problem found
// (not just the first) and an exit code in the CLI's convention (3: configuration).

export type ManifestsErrorCode =
  | 'input-not-found'
  | 'invalid-yaml'
  | 'invalid-credentials-request'
  | 'duplicate-secret'
  | 'no-aws-credentials-requests'
  | 'invalid-role-map'
  | 'invalid-role-name'
  | 'role-collision'
  | 'invalid-option'
  | 'file-name-collision'
  | 'files-differ';

export class ManifestsError extends Error {
  override name = 'ManifestsError';
  /** Same value as EXIT_CONFIG: nothing was written, the input or options need fixing. */
  readonly exitCode = 3;
  constructor(
    readonly code: ManifestsErrorCode,
    summary: string,
    readonly problems: readonly string[] = [],
  ) {
    super(problems.length === 0 ? summary : `${summary}\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}
