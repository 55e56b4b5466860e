// A Kubernetes API test server: TLS on 127.0.0.1, bearer-token auth, discovery, and core/v1
// Secrets and Events, events.k8s.io/v1 Events and cloudcredential.openshift.io/v1
// CredentialsRequests with real semantics (resourceVersion conflicts, Status errors worded
// as the real ones). Tests drive it with kubectl and @kubernetes/client-node, configure
// denials and faults, and read the request log.

import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { reviewAccess } from './kube-api-server/access-review.js';
import { handleResource, type Reply } from './kube-api-server/handlers.js';
import { asObject, normalise, validate, type KubeObject } from './kube-api-server/objects.js';
import { isWrite, parseRequest, type RequestInfo } from './kube-api-server/request-info.js';
import {
  coreVersions,
  CORE_EVENTS,
  CREDENTIALS_REQUESTS,
  EVENTS_V1,
  groupDocument,
  groupList,
  openApiDocument,
  openApiRoot,
  resourceList,
  RESOURCE_TYPES,
  SECRETS,
  SUBJECT_ACCESS_REVIEWS,
  versionInfo,
  type ResourceType,
} from './kube-api-server/resources.js';
import { badRequest, forbidden, injected, methodNotAllowed, pageNotFound, StatusError, unauthorized } from './kube-api-server/status.js';
import { ObjectStore } from './kube-api-server/store.js';
import { servingCertificate } from './kube-api-server/tls.js';
import { wantsTable } from './kube-api-server/table.js';

export type { KubeObject, ObjectMeta } from './kube-api-server/objects.js';
export type { RequestInfo } from './kube-api-server/request-info.js';
export type { Status } from './kube-api-server/status.js';

export interface KubeApiServerOptions {
  /** The bearer token clients must send; random when not given. */
  token?: string;
  /** The user named in Forbidden messages. */
  user?: string;
  /** Namespaces to list besides default, kube-system and those holding objects. */
  namespaces?: string[];
}

/** Denies requests matching every field given (an empty rule denies every resource request). */
export interface DenyRule {
  namespace?: string;
  name?: string;
  verb?: string | string[];
  resource?: string;
}

export interface FaultSpec {
  /** HTTP status to answer with, e.g. 500, 503 or 409. */
  status: number;
  /** How many matching requests fail; default 1, Infinity for all. */
  count?: number;
  /** Which requests; default every resource request (discovery is never failed by default). */
  match?: (request: RequestInfo) => boolean;
  /** Status message; by default worded as the real error for the status code. */
  message?: string;
  /** Answer with a Retry-After header of this many seconds. */
  retryAfterSeconds?: number;
}

export interface RequestRecord {
  method: string;
  path: string;
  query: string;
  verb: string;
  group: string;
  resource?: string | undefined;
  namespace?: string | undefined;
  name?: string | undefined;
  contentType?: string | undefined;
  /** HTTP status answered; 0 while in flight. */
  status: number;
  /** When it arrived (ms since the epoch). */
  at: number;
}

export type BeforeWriteHook = (request: RequestInfo) => void | Promise<void>;

export interface KubeApiServer {
  url: string;
  caPem: string;
  token: string;
  user: string;
  /**
   * The server goes away as a killed process would: the port closes and every connection is
   * cut at once, including one still in its TLS handshake; nothing is answered after this
   * (a request being handled gets its connection cut, not a reply).
   */
  stop(): Promise<void>;
  /** Resolves when the server next accepts a TCP connection, before any TLS handshake on it (call it before connecting). */
  nextConnection(): Promise<void>;
  /** Writes a kubeconfig (certificate-authority-data + token) into dir; returns its path. */
  writeKubeconfig(dir: string, fileName?: string): Promise<string>;
  putSecret(secret: Partial<KubeObject>): KubeObject;
  getSecret(namespace: string, name: string): KubeObject | undefined;
  listSecrets(namespace?: string): KubeObject[];
  putCredentialsRequest(request: Partial<KubeObject>): KubeObject;
  /** Any object of a kind the server knows (Role, RoleBinding, CloudCredential, ...), by its `kind`. */
  putObject(object: Partial<KubeObject> & { kind: string }): KubeObject;
  getObject(kind: string, namespace: string | undefined, name: string): KubeObject | undefined;
  getCredentialsRequest(namespace: string, name: string): KubeObject | undefined;
  /** core/v1 and events.k8s.io/v1 Events, optionally of one namespace. */
  listEvents(namespace?: string): KubeObject[];
  /** The global resourceVersion (bumped by every write). */
  readonly resourceVersion: string;
  readonly requests: readonly RequestRecord[];
  clearRequests(): void;
  deny(rule: DenyRule): void;
  failNext(fault: FaultSpec): void;
  /** Runs before every write that passed auth, denials and faults; returns a remover. */
  onBeforeWrite(hook: BeforeWriteHook): () => void;
  /** Forgets objects, denials, faults, hooks and the request log. */
  reset(): void;
}

interface PendingFault extends FaultSpec {
  remaining: number;
}

function denies(rule: DenyRule, info: RequestInfo): boolean {
  const verbs = rule.verb === undefined ? undefined : [rule.verb].flat();
  return (
    (rule.namespace === undefined || rule.namespace === info.namespace) &&
    (rule.name === undefined || rule.name === info.name) &&
    (rule.resource === undefined || rule.resource === info.resource) &&
    (verbs === undefined || verbs.includes(info.verb))
  );
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return /yaml/.test(req.headers['content-type'] ?? '') ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    throw badRequest(`the body of the request could not be decoded: ${(error as Error).message}`);
  }
}

function send(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function withRetryAfter(error: StatusError, fault: FaultSpec): StatusError {
  if (fault.retryAfterSeconds !== undefined) error.retryAfterSeconds = fault.retryAfterSeconds;
  return error;
}

function discovery(path: string, serverAddress: string): Reply {
  const trimmed = path.replace(/\/+$/, '') || '/';
  const apisGroup = /^\/apis\/([^/]+)$/.exec(trimmed);
  const groupVersion = /^\/(?:api|apis)\/(.+)$/.exec(trimmed)?.[1];
  const document =
    trimmed === '/version'
      ? versionInfo()
      : trimmed === '/api'
        ? coreVersions(serverAddress)
        : trimmed === '/apis'
          ? groupList()
          : trimmed === '/openapi/v3'
            ? openApiRoot()
            : trimmed.startsWith('/openapi/v3/')
              ? openApiDocument(trimmed.slice('/openapi/v3/'.length))
              : ['/healthz', '/readyz', '/livez'].includes(trimmed)
                ? { status: 'ok' }
                : apisGroup?.[1]
                  ? groupDocument(apisGroup[1])
                  : groupVersion
                    ? resourceList(groupVersion)
                    : undefined;
  if (!document) throw pageNotFound();
  return { code: 200, body: document };
}

export async function startKubeApiServer(options: KubeApiServerOptions = {}): Promise<KubeApiServer> {
  const token = options.token ?? randomBytes(24).toString('hex');
  const user = options.user ?? 'system:serviceaccount:cap-token-refresh:cap-token-refresh';
  const { certPem, keyPem } = servingCertificate();
  const store = new ObjectStore();
  let requests: RequestRecord[] = [];
  let denials: DenyRule[] = [];
  let faults: PendingFault[] = [];
  let hooks: BeforeWriteHook[] = [];
  let address = '';
  let stopped = false;
  /** Every TCP connection, from accept on: http's closeAllConnections misses one still in its TLS handshake. */
  const sockets = new Set<Socket>();

  const namespaces = (): string[] => [...new Set(['default', 'kube-system', ...(options.namespaces ?? []), ...store.namespaces()])];

  function takeFault(info: RequestInfo): PendingFault | undefined {
    const fault = faults.find((f) => f.remaining > 0 && (f.match ? f.match(info) : info.isResourceRequest));
    if (fault) fault.remaining -= 1;
    return fault;
  }

  async function dispatch(info: RequestInfo, req: IncomingMessage, body: unknown): Promise<Reply> {
    const fault = takeFault(info);
    if (!info.isResourceRequest) {
      if (fault) throw withRetryAfter(injected(fault.status, { verb: info.verb, user }, fault.message), fault);
      return discovery(info.path, address);
    }
    const { type } = info;
    if (!type) throw pageNotFound();
    if (!type.verbs.includes(info.verb)) throw methodNotAllowed();
    if (denials.some((rule) => denies(rule, info))) {
      throw forbidden({ type, verb: info.verb, user, namespace: info.namespace, name: info.name });
    }
    if (fault) throw withRetryAfter(injected(fault.status, { ...info, type, user }, fault.message), fault);
    if (type === SUBJECT_ACCESS_REVIEWS) return { code: 201, body: reviewAccess(store, body) };
    if (isWrite(info)) for (const hook of [...hooks]) await hook(info);
    return handleResource({
      info: { ...info, type },
      store,
      body,
      namespaces,
      contentType: req.headers['content-type'] ?? '',
      wantsTable: wantsTable(req.headers.accept),
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (stopped) return void req.socket.destroy();
    const info = parseRequest(req.method ?? 'GET', req.url ?? '/');
    const record: RequestRecord = {
      method: info.method,
      path: info.path,
      query: info.query.toString(),
      verb: info.verb,
      group: info.group,
      resource: info.resource,
      namespace: info.namespace,
      name: info.name,
      contentType: req.headers['content-type'],
      status: 0,
      at: Date.now(),
    };
    requests.push(record);
    let reply: Reply;
    let headers: Record<string, string> = {};
    try {
      const body = await readBody(req);
      if (req.headers.authorization !== `Bearer ${token}`) throw unauthorized();
      reply = await dispatch(info, req, body);
    } catch (error) {
      if (!(error instanceof StatusError)) throw error;
      reply = { code: error.status.code, body: error.status };
      if (error.retryAfterSeconds !== undefined) headers = { 'retry-after': String(error.retryAfterSeconds) };
    }
    if (stopped) return void req.socket.destroy();
    record.status = reply.code;
    send(res, reply.code, reply.body, headers);
  }

  const server: Server = createServer({ cert: certPem, key: keyPem }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (stopped) return void req.socket.destroy();
      const message = `Internal error occurred: ${(error as Error).message}`;
      send(res, 500, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'InternalError', code: 500 });
    });
  });
  const track = (socket: Socket) => {
    if (stopped) return void socket.destroy();
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  server.on('connection', track);
  server.on('secureConnection', track);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  address = `127.0.0.1:${port}`;
  const url = `https://${address}`;

  function typeOfKind(kind: string): ResourceType {
    const type = RESOURCE_TYPES.find((t) => t.kind === kind && t !== EVENTS_V1);
    if (!type) throw new Error(`test fixture refused: the server knows no kind ${kind}`);
    return type;
  }

  function put(type: ResourceType, input: Partial<KubeObject>): KubeObject {
    const object = asObject(type, { ...input, metadata: { namespace: 'default', ...input.metadata } });
    delete object.metadata.resourceVersion;
    try {
      normalise(type, object);
      validate(type, object, undefined);
    } catch (error) {
      throw new Error(`test fixture refused: ${(error as Error).message}`);
    }
    // A seeded object may say when it was created (a CronJob made hours ago); a client's request never can.
    return store.write(type, object, input.metadata?.creationTimestamp);
  }

  return {
    url,
    caPem: certPem,
    token,
    user,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        stopped = true;
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      }),
    nextConnection: () => new Promise<void>((resolve) => server.once('connection', () => resolve())),
    writeKubeconfig: async (dir, fileName = 'kubeconfig') => {
      const path = join(dir, fileName);
      await writeFile(path, kubeconfigYaml(url, certPem, token), { mode: 0o600 });
      return path;
    },
    putSecret: (secret) => put(SECRETS, secret),
    getSecret: (namespace, name) => store.get(SECRETS, namespace, name),
    listSecrets: (namespace) => store.list(SECRETS, namespace),
    putCredentialsRequest: (request) => put(CREDENTIALS_REQUESTS, request),
    getCredentialsRequest: (namespace, name) => store.get(CREDENTIALS_REQUESTS, namespace, name),
    putObject: (object) => put(typeOfKind(object.kind), object),
    getObject: (kind, namespace, name) => store.get(typeOfKind(kind), namespace, name),
    listEvents: (namespace) => [...store.list(CORE_EVENTS, namespace), ...store.list(EVENTS_V1, namespace)],
    get resourceVersion() {
      return store.resourceVersion;
    },
    get requests() {
      return requests;
    },
    clearRequests: () => {
      requests = [];
    },
    deny: (rule) => {
      denials.push(rule);
    },
    failNext: (fault) => {
      faults.push({ ...fault, remaining: fault.count ?? 1 });
    },
    onBeforeWrite: (hook) => {
      hooks.push(hook);
      return () => {
        hooks = hooks.filter((h) => h !== hook);
      };
    },
    reset: () => {
      store.clear();
      requests = [];
      denials = [];
      faults = [];
      hooks = [];
    },
  };
}

function kubeconfigYaml(server: string, caPem: string, token: string): string {
  return stringifyYaml({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'test', cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } }],
    users: [{ name: 'test', user: { token } }],
    contexts: [{ name: 'test', context: { cluster: 'test', user: 'test', namespace: 'default' } }],
    'current-context': 'test',
  });
}
