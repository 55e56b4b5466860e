import { ANNOTATION_ROLE, LABEL_MANAGED } from '../core/names.js';

/** The operator Secrets of a default OpenShift install on AWS, for the demo. */
export const SAMPLE_OPERATOR_SECRETS = [
  { component: 'machine-api', namespace: 'openshift-machine-api', name: 'aws-cloud-credentials' },
  { component: 'image-registry', namespace: 'openshift-image-registry', name: 'installer-cloud-credentials' },
  { component: 'ingress', namespace: 'openshift-ingress-operator', name: 'cloud-credentials' },
  { component: 'ebs-csi-driver', namespace: 'openshift-cluster-csi-drivers', name: 'ebs-cloud-credentials' },
  { component: 'cloud-network-config-controller', namespace: 'openshift-cloud-network-config-controller', name: 'cloud-credentials' },
  { component: 'cloud-credential-operator-iam-ro', namespace: 'openshift-cloud-credential-operator', name: 'cloud-credential-operator-iam-ro-creds' },
] as const;

/** A Secret manifest as an administrator would commit it: a comment, the role annotation, empty keys. */
export function renderSampleSecretManifest(s: { component: string; namespace: string; name: string }, role: string): string {
  return [
    `# Credentials for ${s.component}; cap-token-refresh keeps them fresh.`,
    'apiVersion: v1',
    'kind: Secret',
    'metadata:',
    `  name: ${s.name}`,
    `  namespace: ${s.namespace}`,
    '  annotations:',
    `    ${ANNOTATION_ROLE}: ${role}`,
    '  labels:',
    `    ${LABEL_MANAGED}: "true"`,
    'type: Opaque',
    'stringData:',
    '  aws_access_key_id: ""',
    '  aws_secret_access_key: ""',
    '  credentials: ""',
    '',
  ].join('\n');
}
