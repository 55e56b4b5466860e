import { componentNames } from '../manifests/component-names.js';
import { operatorSecretObject } from '../manifests/kubernetes-objects.js';
import { renderKubernetesYaml } from '../manifests/render.js';
import { renderRoleName, secretKey, type SecretRef } from '../manifests/role-names.js';

/** The Secrets named by the AWS CredentialsRequests of a default OpenShift install (see manifests/). */
const DEFAULT_INSTALL_SECRETS: readonly SecretRef[] = [
  { namespace: 'openshift-machine-api', name: 'aws-cloud-credentials' },
  { namespace: 'openshift-image-registry', name: 'installer-cloud-credentials' },
  { namespace: 'openshift-ingress-operator', name: 'cloud-credentials' },
  { namespace: 'openshift-cluster-csi-drivers', name: 'ebs-cloud-credentials' },
  { namespace: 'openshift-cloud-network-config-controller', name: 'cloud-credentials' },
  { namespace: 'openshift-cloud-credential-operator', name: 'cloud-credential-operator-iam-ro-creds' },
];

const COMPONENTS = componentNames(DEFAULT_INSTALL_SECRETS);

/** Each sample Secret with the `<component>` of its `cap-<component>-secret.yaml`, as `generate` names it. */
export const SAMPLE_OPERATOR_SECRETS: readonly (SecretRef & { component: string })[] = DEFAULT_INSTALL_SECRETS.map((ref) => ({
  ...ref,
  // componentNames names every Secret it is given.
  component: COMPONENTS.get(secretKey(ref)) ?? ref.name,
}));

/** A Secret manifest rendered exactly as `generate` renders it. */
export function renderSampleSecretManifest(ref: SecretRef, role: string): string {
  return renderKubernetesYaml(operatorSecretObject(ref, role));
}

/** File name, text and role of each sample Secret manifest, roles from the default template. */
export function renderSampleManifests(clusterName: string): { file: string; text: string; role: string }[] {
  return SAMPLE_OPERATOR_SECRETS.map((s) => {
    const role = renderRoleName('{cluster}-{namespace}-{name}', clusterName, s);
    return { file: `cap-${s.component}-secret.yaml`, text: renderSampleSecretManifest(s, role), role };
  });
}
