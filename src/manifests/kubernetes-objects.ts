import { ANNOTATION_ROLE, CERTS_MOUNT_DIR, CERTS_SECRET_KEYS, LABEL_MANAGED, SECRET_CREDENTIAL_KEYS, TOOL_NAME, TOOL_NAMESPACE } from '../core/names.js';
import type { ProxyEnv } from './proxy-env.js';
import type { KubernetesObject } from './render.js';
import type { SecretRef } from './role-names.js';

export const CERTS_SECRET_NAME = 'cap-certs';
/** The ConfigMap the Cluster Network Operator fills with the cluster's trusted CA bundle (with the install's additionalTrustBundle). */
export const TRUSTED_CA_CONFIGMAP_NAME = 'cap-trusted-ca-bundle';
export const TRUSTED_CA_MOUNT_DIR = '/etc/cap-trusted-ca';
/** The key the Cluster Network Operator writes into a ConfigMap labelled config.openshift.io/inject-trusted-cabundle. */
const TRUSTED_CA_KEY = 'ca-bundle.crt';
export const CREDENTIALS_REQUESTS_NAMESPACE = 'openshift-cloud-credential-operator';
const CREDENTIALS_REQUESTS_ROLE_NAME = `${TOOL_NAME}-credentialsrequests`;
const SECRETS_ROLE_NAME = TOOL_NAME;
const APP_LABELS = { 'app.kubernetes.io/name': TOOL_NAME } as const;

/** Visible stand-ins for what the site fills in (or passes as flags). */
export const PLACEHOLDERS = {
  image: 'REPLACE_WITH_IMAGE',
  capUrl: 'REPLACE_WITH_CAP_URL',
  agency: 'REPLACE_WITH_AGENCY',
  mission: 'REPLACE_WITH_MISSION',
  cert: 'REPLACE_WITH_CLIENT_CERTIFICATE_PEM',
  key: 'REPLACE_WITH_CLIENT_KEY_PEM',
  ca: 'REPLACE_WITH_CAP_CA_CERTIFICATES_PEM',
} as const;

export interface CronJobSettings {
  image: string;
  capUrl: string;
  agency: string;
  mission: string;
  /** CAP_ACCOUNT, for a CAP_URL template with {account} (SC2S). */
  account?: string;
  schedule: string;
  /** `--renew-before` of the refresh: the margin a successful run leaves every Secret; the alert thresholds follow from it. */
  renewBefore: string;
  /** HTTPS_PROXY (and NO_PROXY) for the CAP calls; the API server is reached directly whatever they say (see proxy-env.ts). */
  proxy?: ProxyEnv;
}

export interface CertsSecretContents {
  cert: string;
  key: string;
  ca: string;
}

/**
 * Every 5 minutes: with the 30-minute margin a Secret is renewed every 30 to 35 minutes (at
 * most 2 writes per one-hour lifetime), and two missed starts in a row still leave it 15
 * minutes. Every 10 minutes, two missed starts let a Secret expire (the soak found it).
 */
export const DEFAULT_SCHEDULE = '*/5 * * * *';
export const DEFAULT_RENEW_BEFORE = '30m';
/**
 * `--retry-for` of the CronJob's refresh: a run keeps asking a CAP that is down (5xx, refused,
 * timed out) this long, so that a portal outage of up to 20 minutes ends inside the run that
 * met it, not one schedule period later. The Job's deadline leaves the run 5 minutes more.
 */
export const CRONJOB_RETRY_FOR_MINUTES = 20;
const JOB_DEADLINE_SECONDS = (CRONJOB_RETRY_FOR_MINUTES + 5) * 60;

/**
 * Where the pod runs: on control-plane nodes, never waiting for workers (the machine API that
 * creates workers needs the very credentials this job keeps alive).
 */
export const CONTROL_PLANE_NODE_SELECTOR = { 'node-role.kubernetes.io/master': '' } as const;
export const CONTROL_PLANE_TOLERATIONS = [
  { key: 'node-role.kubernetes.io/master', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' },
] as const;
export const PRIORITY_CLASS_NAME = 'system-cluster-critical';

/**
 * The tool's namespace. `openshift.io/node-selector: ""` keeps a cluster-wide default node
 * selector (for example one that sends projects to workers) from moving the pod; Pod
 * Security "restricted" is enforced, which the pod passes.
 */
export function namespaceObject(): KubernetesObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: TOOL_NAMESPACE,
      labels: {
        ...APP_LABELS,
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/audit': 'restricted',
        'pod-security.kubernetes.io/warn': 'restricted',
      },
      annotations: { 'openshift.io/node-selector': '' },
    },
  };
}

export function serviceAccountObject(): KubernetesObject {
  return {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: TOOL_NAME, namespace: TOOL_NAMESPACE, labels: { ...APP_LABELS } },
  };
}

/** The client identity the job presents to CAP, with the keys docs/DESIGN.md fixes. */
export function certsSecretObject(contents: CertsSecretContents): KubernetesObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: CERTS_SECRET_NAME, namespace: TOOL_NAMESPACE, labels: { ...APP_LABELS } },
    type: 'Opaque',
    stringData: {
      [CERTS_SECRET_KEYS.cert]: contents.cert,
      [CERTS_SECRET_KEYS.key]: contents.key,
      [CERTS_SECRET_KEYS.ca]: contents.ca,
    },
  };
}

/**
 * A managed operator Secret before its first credentials: the three keys empty, so the
 * refresh finds no expiration annotation and treats it as due.
 */
export function operatorSecretObject(ref: SecretRef, role: string): KubernetesObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: ref.name,
      namespace: ref.namespace,
      labels: { [LABEL_MANAGED]: 'true' },
      annotations: { [ANNOTATION_ROLE]: role },
    },
    type: 'Opaque',
    stringData: Object.fromEntries(SECRET_CREDENTIAL_KEYS.map((key) => [key, ''])),
  };
}

/**
 * An empty ConfigMap the Cluster Network Operator fills with the cluster's trusted CA bundle
 * (`ca-bundle.crt`: the install's additionalTrustBundle with the system roots), so the job
 * verifies CAP against the enclave's CAs without a copy in the certs Secret.
 */
export function trustedCaConfigMapObject(): KubernetesObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: TRUSTED_CA_CONFIGMAP_NAME,
      namespace: TOOL_NAMESPACE,
      labels: { ...APP_LABELS, 'config.openshift.io/inject-trusted-cabundle': 'true' },
    },
  };
}

/** Mode of the mounted certs files: owner and group read; restricted-v2 gives the pod that group (fsGroup). */
export const CERTS_FILE_MODE = 0o440;

/** The path of `defaultMode` in the CronJob, to comment its octal value. */
export const CRONJOB_DEFAULT_MODE_PATH = ['spec', 'jobTemplate', 'spec', 'template', 'spec', 'volumes', 0, 'secret', 'defaultMode'];

/**
 * The refresh every few minutes, under OpenShift's restricted-v2 SCC (no fixed UID: the SCC
 * assigns one), on control-plane nodes with system-cluster-critical priority.
 */
export function cronJobObject(settings: CronJobSettings): KubernetesObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: TOOL_NAME, namespace: TOOL_NAMESPACE, labels: { ...APP_LABELS } },
    spec: {
      schedule: settings.schedule,
      concurrencyPolicy: 'Forbid',
      startingDeadlineSeconds: 300,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
      jobTemplate: {
        spec: {
          activeDeadlineSeconds: JOB_DEADLINE_SECONDS,
          backoffLimit: 1,
          template: {
            metadata: { labels: { ...APP_LABELS } },
            spec: {
              serviceAccountName: TOOL_NAME,
              restartPolicy: 'Never',
              priorityClassName: PRIORITY_CLASS_NAME,
              nodeSelector: { ...CONTROL_PLANE_NODE_SELECTOR },
              tolerations: CONTROL_PLANE_TOLERATIONS.map((t) => ({ ...t })),
              securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
              containers: [
                {
                  name: TOOL_NAME,
                  image: settings.image,
                  imagePullPolicy: 'IfNotPresent',
                  args: ['refresh', '--renew-before', settings.renewBefore, '--retry-for', `${CRONJOB_RETRY_FOR_MINUTES}m`],
                  env: [
                    { name: 'CAP_URL', value: settings.capUrl },
                    { name: 'AGENCY', value: settings.agency },
                    { name: 'MISSION', value: settings.mission },
                    ...(settings.account ? [{ name: 'CAP_ACCOUNT', value: settings.account }] : []),
                    // tls.crt + tls.key, or client.p12; passphrase and ca.crt when present.
                    { name: 'CAP_CERTS_DIR', value: CERTS_MOUNT_DIR },
                    // Trusted together with ca.crt: the cluster's bundle, injected by the Cluster Network Operator.
                    { name: 'CAP_TRUSTED_CA_BUNDLE', value: `${TRUSTED_CA_MOUNT_DIR}/${TRUSTED_CA_KEY}` },
                    // OpenShift injects no cluster proxy into user pods. Only the CAP client reads these.
                    ...(settings.proxy ? [{ name: 'HTTPS_PROXY', value: settings.proxy.httpsProxy }] : []),
                    ...(settings.proxy?.noProxy ? [{ name: 'NO_PROXY', value: settings.proxy.noProxy }] : []),
                  ],
                  resources: {
                    requests: { cpu: '10m', memory: '64Mi' },
                    limits: { cpu: '200m', memory: '256Mi' },
                  },
                  securityContext: {
                    allowPrivilegeEscalation: false,
                    capabilities: { drop: ['ALL'] },
                    readOnlyRootFilesystem: true,
                    runAsNonRoot: true,
                    seccompProfile: { type: 'RuntimeDefault' },
                  },
                  volumeMounts: [
                    { name: 'cap-certs', mountPath: CERTS_MOUNT_DIR, readOnly: true },
                    { name: 'trusted-ca', mountPath: TRUSTED_CA_MOUNT_DIR, readOnly: true },
                    { name: 'tmp', mountPath: '/tmp' },
                  ],
                },
              ],
              volumes: [
                { name: 'cap-certs', secret: { secretName: CERTS_SECRET_NAME, defaultMode: CERTS_FILE_MODE } },
                // optional: a job that starts before the injection still runs, with ca.crt alone.
                { name: 'trusted-ca', configMap: { name: TRUSTED_CA_CONFIGMAP_NAME, optional: true, items: [{ key: TRUSTED_CA_KEY, path: TRUSTED_CA_KEY }] } },
                { name: 'tmp', emptyDir: { sizeLimit: '16Mi' } },
              ],
            },
          },
        },
      },
    },
  };
}

const toolSubject = { kind: 'ServiceAccount', name: TOOL_NAME, namespace: TOOL_NAMESPACE };

function roleBindingObject(namespace: string, roleName: string): KubernetesObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: roleName, namespace, labels: { ...APP_LABELS } },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: roleName },
    subjects: [{ ...toolSubject }],
  };
}

/** Read of CredentialsRequests, for discovering the targets. */
export function credentialsRequestsReaderRole(): KubernetesObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: CREDENTIALS_REQUESTS_ROLE_NAME, namespace: CREDENTIALS_REQUESTS_NAMESPACE, labels: { ...APP_LABELS } },
    rules: [{ apiGroups: ['cloudcredential.openshift.io'], resources: ['credentialsrequests'], verbs: ['get', 'list'] }],
  };
}

export function credentialsRequestsReaderRoleBinding(): KubernetesObject {
  return roleBindingObject(CREDENTIALS_REQUESTS_NAMESPACE, CREDENTIALS_REQUESTS_ROLE_NAME);
}

/**
 * In one namespace: get and update (PUT) of exactly the managed Secrets there, and create of
 * core/v1 Events (POST). Nothing more: src/kube/kube-api.ts sends no PATCH and writes no
 * events.k8s.io Events.
 */
export function secretsWriterRole(namespace: string, secretNames: readonly string[]): KubernetesObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: SECRETS_ROLE_NAME, namespace, labels: { ...APP_LABELS } },
    rules: [
      { apiGroups: [''], resources: ['secrets'], resourceNames: [...secretNames].sort(), verbs: ['get', 'update'] },
      { apiGroups: [''], resources: ['events'], verbs: ['create'] },
    ],
  };
}

export function secretsWriterRoleBinding(namespace: string): KubernetesObject {
  return roleBindingObject(namespace, SECRETS_ROLE_NAME);
}
