// The one place tests learn where the committed fixtures live (test/fixtures/, laid out in
// CONTRIBUTING.md). Nothing reads fixtures from outside the repository.
import { resolve } from 'node:path';

/** `test/fixtures/` of this repository. */
export const FIXTURES = resolve(import.meta.dirname, '..', 'fixtures');
/** CredentialsRequests read from OpenShift's repositories, one per file; their origin is in SOURCES.tsv beside them. */
export const CREDENTIALS_REQUESTS = resolve(FIXTURES, 'credentials-requests');
/** What `oc adm release extract --credentials-requests --cloud=aws` writes for the current payload: `manifests/` is generated from it. */
export const OC_EXTRACT_AWS = resolve(FIXTURES, 'oc-extract-aws');
/** Sample install-config.yaml files with different capabilities stanzas (written by hand, CONTRIBUTING.md). */
export const INSTALL_CONFIGS = resolve(FIXTURES, 'install-configs');
