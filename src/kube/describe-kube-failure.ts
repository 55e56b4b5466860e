import { displayUrl } from '../core/display-url.js';
import { failedToReach } from '../core/proxy-failure.js';
import { ANNOTATION_ROLE } from '../core/names.js';
import type { ApiEndpoint, KubeRequestError } from './kube-api.js';

export type SecretAction = 'read' | 'update';

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
]);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'UND_ERR_SOCKET']);

/** Why the connection itself failed, with the cure; undefined when the server answered. */
export function describeConnectionFailure(err: KubeRequestError, endpoint: string | ApiEndpoint): string | undefined {
  if (err.status !== undefined) return undefined;
  const { server: serverUrl, proxyUrl } = typeof endpoint === 'string' ? { server: endpoint, proxyUrl: undefined } : endpoint;
  const server = displayUrl(serverUrl);
  const code = err.code ?? 'unknown error';
  if (proxyUrl && failedToReach({ code, ...err.tried }, proxyUrl)) {
    return `cannot reach the proxy ${displayUrl(proxyUrl)} (proxy-url of the kubeconfig) on the way to the API server ${server} (${code}); check proxy-url and that the proxy is up`;
  }
  if (proxyUrl && err.tried.atProxy && TLS_CODES.has(code)) {
    return (
      `the proxy ${displayUrl(proxyUrl)} (proxy-url of the kubeconfig) presented a certificate that is not trusted (${code}), so the API server ${server} was not reached; ` +
      (code === 'ERR_TLS_CERT_ALTNAME_INVALID'
        ? "set proxy-url to the host name the proxy's certificate was issued for"
        : /EXPIRED|NOT_YET_VALID/.test(code)
          ? "the proxy's operators must renew its certificate (or check this machine's clock)"
          : "the proxy is verified with Node's trusted CAs, not the kubeconfig's certificate-authority: add the proxy's CA with NODE_EXTRA_CA_CERTS")
    );
  }
  if (TLS_CODES.has(code)) {
    return `the API server ${server} presented a certificate that is not trusted (${code}); set certificate-authority in the kubeconfig to the CA of the API server (in a pod: the service account ca.crt)`;
  }
  if (code === 'ENOENT' || code === 'EACCES') {
    return `a file the Kubernetes configuration names (CA, client certificate or token) cannot be read (${code}); check the kubeconfig or the service account mount`;
  }
  if (NETWORK_CODES.has(code)) return `cannot reach the API server ${server} (${code}); check the server in the kubeconfig and that the cluster is up`;
  return `the request to the API server ${server} failed (${code})`;
}

/** The RBAC the job needs on one Secret, worded as the cure of a 403. */
export function secretRbacCure(namespace: string, name: string): string {
  return (
    `the job's service account needs a Role in namespace ${namespace} allowing get and update on secrets with resourceNames [${name}], ` +
    `bound to it by a RoleBinding (manifests/ has them; check with: oc auth can-i update secret/${name} -n ${namespace} --as system:serviceaccount:cap-token-refresh:cap-token-refresh)`
  );
}

/** One failed call on a Secret, as the failed target's message: names the Secret and the cure, never the server's text. */
export function describeSecretFailure(err: KubeRequestError, action: SecretAction, namespace: string, name: string, server: string | ApiEndpoint): string {
  const secret = `Secret ${namespace}/${name}`;
  const connection = describeConnectionFailure(err, server);
  if (connection) return `could not ${action} ${secret}: ${connection}`;
  switch (err.status) {
    case 401:
      return `could not ${action} ${secret}: the API server rejected the job's credentials (HTTP 401 Unauthorized); log in again (oc login) or check the service account token`;
    case 403:
      return `not allowed to ${action} ${secret} (HTTP 403 Forbidden): ${secretRbacCure(namespace, name)}`;
    case 404:
      return action === 'read'
        ? missingSecretMessage(namespace, name)
        : `${secret} was deleted while it was being refreshed (HTTP 404 Not Found); re-create it (manifests/ has it) and run again`;
    case 409:
      return `${secret} changed while it was being written (HTTP 409 Conflict); the next run will try again`;
    case 422:
      return (
        `the API server refused the update of ${secret} as invalid (HTTP 422${err.fields.length ? `, fields: ${err.fields.join(', ')}` : ''}); ` +
        'check that the Secret is not immutable and that its type allows the keys aws_access_key_id, aws_secret_access_key and credentials'
      );
    case 429:
      return `the API server is throttling requests (HTTP 429) while trying to ${action} ${secret}; the next run will try again`;
    default:
      if (err.status !== undefined && err.status >= 500) {
        return `the API server failed (HTTP ${err.status}${err.reason ? ` ${err.reason}` : ''}) while trying to ${action} ${secret}; the next run will try again, check the API server if it persists`;
      }
      return `could not ${action} ${secret}: the API server answered HTTP ${err.status ?? '?'}${err.reason ? ` ${err.reason}` : ''}`;
  }
}

export function missingSecretMessage(namespace: string, name: string): string {
  return (
    `Secret ${namespace}/${name} does not exist; apply its manifest: oc apply -f manifests/cap-${namespace.replace(/^openshift-/, '')}*-secret.yaml (with the role filled in), ` +
    `or create it with the annotation ${ANNOTATION_ROLE}: oc create secret generic ${name} -n ${namespace} && oc annotate secret -n ${namespace} ${name} ${ANNOTATION_ROLE}=ROLE`
  );
}

/** A read answered 2xx with no Secret in it (an empty body, `null`): the API server, or a proxy on the way, is at fault. */
export function emptySecretMessage(namespace: string, name: string): string {
  return `the API server answered the read of Secret ${namespace}/${name} with no Secret (an empty answer); check the API server, or the proxy on the way to it, and run again`;
}

export function missingRoleMessage(namespace: string, name: string): string {
  return `Secret ${namespace}/${name} has no ${ANNOTATION_ROLE} annotation, so cap-token-refresh does not know which IAM role to ask CAP for; annotate it: oc annotate secret -n ${namespace} ${name} ${ANNOTATION_ROLE}=ROLE`;
}
