// Errors of the manifests core and the generate command. Each carries every problem found
// (not just the first). A ConfigError, so the CLI maps it to EXIT_CONFIG: nothing was written.
import { escapeControl } from '../core/display-text.js';
import { ConfigError } from '../core/errors.js';

export type ManifestsErrorCode =
  | 'input-not-found'
  | 'invalid-yaml'
  | 'invalid-credentials-request'
  | 'duplicate-secret'
  | 'no-aws-credentials-requests'
  | 'invalid-role-map'
  | 'invalid-role-name'
  | 'role-collision'
  | 'invalid-pem'
  | 'file-name-collision'
  | 'files-differ'
  | 'alert-timings'
  | 'invalid-install-config';

export class ManifestsError extends ConfigError {
  override name = 'ManifestsError';
  constructor(
    readonly code: ManifestsErrorCode,
    summary: string,
    readonly problems: readonly string[] = [],
  ) {
    super(problems.length === 0 ? summary : `${summary}\n${problems.map((p) => `  - ${escapeControl(p)}`).join('\n')}`);
  }
}
