import { existsSync, readFileSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import type { Cluster, Context, User } from '@kubernetes/client-node';
// The module itself, not the package index: the index also loads exec, attach, cp, port-forward
// and watch (ws, tar, ...), ~100 KB of code a refresh never runs.
import { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import { displayUrl } from '../core/display-url.js';
import { ConfigError } from '../core/errors.js';

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** Where the Kubernetes configuration may come from; injected so tests need no pod and no home folder. */
export interface KubeEnvironment {
  env: Record<string, string | undefined>;
  cwd: string;
  /** The mounted service account folder of a pod (token, ca.crt, namespace). */
  serviceAccountDir?: string;
  /** The home folder holding `.kube/config`; default env HOME. */
  homeDir?: string;
}

export interface KubeConfigChoice {
  kubeconfig?: string;
  context?: string;
}

export interface LoadedKubeConfig {
  kubeConfig: KubeConfig;
  /** `in-cluster service account` or the kubeconfig file(s) used, for messages. */
  source: string;
  /** The API server URL as the kubeconfig gives it, for connecting; print it only through displayUrl. */
  server: string;
  /** The cluster's proxy-url, when it has one; print it only through displayUrl. */
  proxyUrl?: string;
  context: string;
}

/**
 * Loads the API server connection: `--kubeconfig` (with `--context`) when given; else the
 * pod's service account when its token is mounted and `--context` was not asked for; else
 * `KUBECONFIG`, else `~/.kube/config`. Every problem is a ConfigError naming the file and the
 * cure, raised before anything is contacted.
 */
export function loadKubeConfig(choice: KubeConfigChoice, environment: KubeEnvironment): LoadedKubeConfig {
  const saDir = environment.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  if (choice.kubeconfig) {
    const file = isAbsolute(choice.kubeconfig) ? choice.kubeconfig : resolve(environment.cwd, choice.kubeconfig);
    if (!existsSync(file)) throw new ConfigError(`the kubeconfig ${file} (--kubeconfig) does not exist; pass the path of an existing kubeconfig`);
    return fromFiles([file], choice.context, '--kubeconfig');
  }
  if (!choice.context && existsSync(join(saDir, 'token'))) return fromServiceAccount(saDir, environment.env);

  const fromEnv = environment.env.KUBECONFIG?.split(delimiter).filter((f) => f !== '') ?? [];
  if (fromEnv.length > 0) {
    const files = fromEnv.map((f) => (isAbsolute(f) ? f : resolve(environment.cwd, f)));
    const present = files.filter((f) => existsSync(f));
    if (present.length === 0)
      throw new ConfigError(
        `KUBECONFIG names ${files.join(', ')}, and none of them exists; set KUBECONFIG to an existing kubeconfig or pass --kubeconfig FILE`,
      );
    return fromFiles(present, choice.context, 'KUBECONFIG');
  }
  const home = environment.homeDir ?? environment.env.HOME;
  const defaultFile = home ? join(home, '.kube', 'config') : undefined;
  if (defaultFile && existsSync(defaultFile)) return fromFiles([defaultFile], choice.context, '~/.kube/config');
  throw new ConfigError(
    `no Kubernetes configuration found: not in a pod (no service account token in ${saDir}), KUBECONFIG is not set, and ${defaultFile ?? '~/.kube/config'} does not exist; ` +
      'log in with `oc login`, or pass --kubeconfig FILE, or refresh manifests on disk with --manifests DIR',
  );
}

function fromServiceAccount(saDir: string, env: Record<string, string | undefined>): LoadedKubeConfig {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) {
    throw new ConfigError(
      `a service account token is mounted in ${saDir} but KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set; run inside a pod, or pass --kubeconfig FILE`,
    );
  }
  const caFile = join(saDir, 'ca.crt');
  if (!existsSync(caFile))
    throw new ConfigError(
      `the service account CA ${caFile} is missing; the pod must mount its service account token with the cluster CA (automountServiceAccountToken)`,
    );
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const namespaceFile = join(saDir, 'namespace');
  const namespace = existsSync(namespaceFile) ? readFileSync(namespaceFile, 'utf8').trim() : undefined;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'in-cluster', server, caFile, skipTLSVerify: false }],
    users: [{ name: 'service-account', authProvider: { name: 'tokenFile', config: { tokenFile: join(saDir, 'token') } } }],
    contexts: [{ name: 'in-cluster', cluster: 'in-cluster', user: 'service-account', ...(namespace ? { namespace } : {}) }],
    currentContext: 'in-cluster',
  });
  return { kubeConfig, source: `in-cluster service account (${saDir})`, server, context: 'in-cluster' };
}

function fromFiles(files: string[], context: string | undefined, origin: string): LoadedKubeConfig {
  const kubeConfig = new KubeConfig();
  files.forEach((file, i) => {
    const one = new KubeConfig();
    try {
      one.loadFromString(readFileSync(file, 'utf8'));
      one.makePathsAbsolute(dirname(file));
    } catch (err) {
      throw new ConfigError(`the kubeconfig ${file} (${origin}) cannot be used: ${describeLoadError(err)}; fix it or log in again with \`oc login\``);
    }
    if (one.getClusters().length === 0 && one.getUsers().length === 0 && one.getContexts().length === 0) {
      throw new ConfigError(
        `the kubeconfig ${file} (${origin}) cannot be used: it is not a kubeconfig (it has no clusters, users or contexts); fix it or log in again with \`oc login\``,
      );
    }
    if (i === 0) kubeConfig.loadFromOptions({ clusters: one.clusters, users: one.users, contexts: one.contexts, currentContext: one.currentContext });
    else mergeMissing(kubeConfig, one);
  });
  const where = files.join(', ');
  const contextNames = kubeConfig.getContexts().map((c) => c.name);
  if (context) {
    if (!kubeConfig.getContextObject(context)) {
      throw new ConfigError(`the context ${context} (--context) is not in the kubeconfig ${where}; use one of: ${contextNames.join(', ') || '(none)'}`);
    }
    kubeConfig.setCurrentContext(context);
  } else if (!kubeConfig.getCurrentContext()) {
    throw new ConfigError(`the kubeconfig ${where} sets no current-context; pass --context NAME (one of: ${contextNames.join(', ') || '(none)'})`);
  } else if (!kubeConfig.getContextObject(kubeConfig.getCurrentContext())) {
    throw new ConfigError(
      `the current-context ${kubeConfig.getCurrentContext()} of the kubeconfig ${where} is not one of its contexts; pass --context NAME (one of: ${contextNames.join(', ') || '(none)'})`,
    );
  }
  const ctxObject = kubeConfig.getContextObject(kubeConfig.getCurrentContext()) as Context;
  const cluster = kubeConfig.getCluster(ctxObject.cluster);
  if (!cluster)
    throw new ConfigError(
      `the context ${ctxObject.name} of the kubeconfig ${where} names the cluster ${ctxObject.cluster}, which is not in it; fix the kubeconfig or log in again with \`oc login\``,
    );
  if (!kubeConfig.getUser(ctxObject.user))
    throw new ConfigError(
      `the context ${ctxObject.name} of the kubeconfig ${where} names the user ${ctxObject.user}, which is not in it; fix the kubeconfig or log in again with \`oc login\``,
    );
  if (cluster.skipTLSVerify) {
    throw new ConfigError(
      `the cluster ${cluster.name} in the kubeconfig ${where} sets insecure-skip-tls-verify; cap-token-refresh writes credentials only over a verified connection: ` +
        'remove it and set certificate-authority (or certificate-authority-data) to the CA of the API server',
    );
  }
  if (cluster.proxyUrl && !/^https?:\/\//.test(cluster.proxyUrl)) {
    throw new ConfigError(
      `the cluster ${cluster.name} in the kubeconfig ${where} has proxy-url ${displayUrl(cluster.proxyUrl)}; only http:// and https:// proxies are supported`,
    );
  }
  if (!/^https:\/\//.test(cluster.server))
    throw new ConfigError(
      `the cluster ${cluster.name} in the kubeconfig ${where} has server ${displayUrl(cluster.server)}; only https:// API servers are used`,
    );
  const user = kubeConfig.getUser(ctxObject.user) as User;
  const named: [string, string | undefined][] = [
    [`certificate-authority of the cluster ${cluster.name}`, cluster.caFile],
    [`client-certificate of the user ${user.name}`, user.certFile],
    [`client-key of the user ${user.name}`, user.keyFile],
    [`tokenFile of the user ${user.name}`, (user.authProvider?.config as { tokenFile?: string } | undefined)?.tokenFile],
  ];
  for (const [what, file] of named) {
    if (file && !existsSync(file))
      throw new ConfigError(`the ${what} in the kubeconfig ${where} is ${file}, which does not exist; fix the path or log in again with \`oc login\``);
  }
  return { kubeConfig, source: where, server: cluster.server, ...(cluster.proxyUrl ? { proxyUrl: cluster.proxyUrl } : {}), context: ctxObject.name };
}

/** Later KUBECONFIG files add entries but never override earlier ones, as kubectl merges them. */
function mergeMissing(into: KubeConfig, from: KubeConfig): void {
  const has = <T extends { name: string }>(list: T[], name: string) => list.some((x) => x.name === name);
  const clusters: Cluster[] = [...into.getClusters(), ...from.getClusters().filter((c) => !has(into.getClusters(), c.name))];
  const users: User[] = [...into.getUsers(), ...from.getUsers().filter((u) => !has(into.getUsers(), u.name))];
  const contexts: Context[] = [...into.getContexts(), ...from.getContexts().filter((c) => !has(into.getContexts(), c.name))];
  into.loadFromOptions({ clusters, users, contexts, currentContext: into.getCurrentContext() || from.getCurrentContext() });
}

/**
 * The loader's own validation messages name a path (`clusters[0].cluster.server is missing`)
 * and are kept; a YAML parser message may quote the file (tokens included), so only its line is.
 */
function describeLoadError(err: unknown): string {
  const message = err instanceof Error ? err.message : '';
  if (/^(clusters|users|contexts)\[\d+\]\.[\w.-]+ is missing$/.test(message)) return message;
  const mark = (err as { mark?: { line?: number } }).mark;
  if (err instanceof Error && err.name === 'YAMLException') return `it is not valid YAML${mark?.line !== undefined ? ` (line ${mark.line + 1})` : ''}`;
  if (err instanceof TypeError || /Cannot read prop/.test(message)) return 'it is not a kubeconfig (clusters, users and contexts are missing or malformed)';
  return 'it cannot be read as a kubeconfig';
}
