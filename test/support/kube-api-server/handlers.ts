// The verbs on resources: get, list, create, update, patch, delete, with real API server semantics.

import { createHash, randomBytes } from 'node:crypto';
import { asObject, clone, isRecord, mergePatch, normalise, validate, type KubeObject } from './objects.js';
import type { RequestInfo } from './request-info.js';
import { groupVersionOf, NAMESPACES, type ResourceType } from './resources.js';
import {
  alreadyExists,
  badRequest,
  conflict,
  fieldInvalid,
  invalid,
  methodNotAllowed,
  notFound,
  success,
  unsupportedMediaType,
  type Status,
} from './status.js';
import type { ObjectStore } from './store.js';
import { matchesSelectors } from './selectors.js';
import { toTable } from './table.js';

export interface ResourceRequest {
  info: RequestInfo & { type: ResourceType };
  store: ObjectStore;
  body: unknown;
  contentType: string;
  wantsTable: boolean;
  /** Every namespace the server shows (synthesised). */
  namespaces: () => string[];
}

export interface Reply {
  code: number;
  body: KubeObject | Status | object;
}

const MERGE_PATCH_TYPES = ['application/merge-patch+json', 'application/strategic-merge-patch+json'];

export function handleResource(req: ResourceRequest): Reply {
  const { info } = req;
  if (info.subresource) throw methodNotAllowed();
  if (info.type === NAMESPACES) return handleNamespaces(req);
  switch (info.verb) {
    case 'get':
      return respond(req, 200, getExisting(req));
    case 'list':
      return respondList(req, req.store.list(info.type, info.namespace));
    case 'create':
      return { code: 201, body: create(req) };
    case 'update':
      return { code: 200, body: update(req) };
    case 'patch':
      return { code: 200, body: patch(req) };
    case 'delete':
      return { code: 200, body: remove(req) };
    default:
      throw methodNotAllowed();
  }
}

function nameOf(req: ResourceRequest): string {
  return req.info.name ?? '';
}

function getExisting(req: ResourceRequest): KubeObject {
  const found = req.store.get(req.info.type, req.info.namespace, nameOf(req));
  if (!found) throw notFound(req.info.type, nameOf(req));
  return found;
}

function respond(req: ResourceRequest, code: number, object: KubeObject): Reply {
  return { code, body: req.wantsTable ? toTable(req.info.type, [object], req.store.resourceVersion) : object };
}

function respondList(req: ResourceRequest, objects: KubeObject[]): Reply {
  const { type, query } = req.info;
  const items = objects.filter((o) => matchesSelectors(o, query.get('labelSelector'), query.get('fieldSelector')));
  if (req.wantsTable) return { code: 200, body: toTable(type, items, req.store.resourceVersion) };
  const listItems = type.builtin ? items.map(({ apiVersion: _a, kind: _k, ...rest }) => rest) : items;
  return {
    code: 200,
    body: { apiVersion: groupVersionOf(type), kind: `${type.kind}List`, metadata: { resourceVersion: req.store.resourceVersion }, items: listItems },
  };
}

/** The body as an object in the URL's namespace, or 400 as a real server answers a mismatch. */
function bodyObject(req: ResourceRequest): KubeObject {
  const object = asObject(req.info.type, req.body);
  const { namespace } = req.info;
  if (object.metadata.namespace !== undefined && object.metadata.namespace !== namespace) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  if (namespace !== undefined) object.metadata.namespace = namespace;
  return object;
}

function create(req: ResourceRequest): KubeObject {
  const { type } = req.info;
  const object = bodyObject(req);
  const { name, generateName } = object.metadata;
  if (!name && generateName) object.metadata.name = `${generateName}${randomBytes(3).toString('hex').slice(0, 5)}`;
  delete object.metadata.resourceVersion;
  normalise(type, object);
  validate(type, object);
  if (req.store.get(type, req.info.namespace, object.metadata.name ?? '')) throw alreadyExists(type, object.metadata.name ?? '');
  return req.store.write(type, object);
}

function checkResourceVersion(type: ResourceType, object: KubeObject, stored: KubeObject): void {
  const wanted = object.metadata.resourceVersion;
  if (wanted === undefined || wanted === '') {
    if (type.builtin) return; // secrets and events allow unconditional updates
    throw invalid(type, object.metadata.name ?? '', [fieldInvalid('metadata.resourceVersion', '0x0', 'must be specified for an update')]);
  }
  if (wanted !== stored.metadata.resourceVersion) throw conflict(type, object.metadata.name ?? '');
}

function update(req: ResourceRequest): KubeObject {
  const { type } = req.info;
  const object = bodyObject(req);
  if (object.metadata.name !== nameOf(req)) {
    throw badRequest(`the name of the object (${object.metadata.name ?? ''}) does not match the name on the URL (${nameOf(req)})`);
  }
  const stored = getExisting(req);
  checkResourceVersion(type, object, stored);
  normalise(type, object);
  validate(type, object, stored);
  return req.store.write(type, object);
}

function patch(req: ResourceRequest): KubeObject {
  const { type } = req.info;
  const mediaType = req.contentType.split(';')[0]?.trim() ?? '';
  if (!MERGE_PATCH_TYPES.includes(mediaType)) throw unsupportedMediaType(mediaType);
  if (!isRecord(req.body)) throw badRequest('the body of the request was in an unknown format');
  const stored = getExisting(req);
  const patched = asObject(type, mergePatch(clone(stored), req.body));
  if (patched.metadata.name !== stored.metadata.name || patched.metadata.namespace !== stored.metadata.namespace) {
    throw badRequest('metadata.name and metadata.namespace cannot be changed by a patch');
  }
  // A resourceVersion inside the patch is a precondition, as on a real server.
  if (patched.metadata.resourceVersion !== stored.metadata.resourceVersion) throw conflict(type, nameOf(req));
  normalise(type, patched);
  validate(type, patched, stored);
  return req.store.write(type, patched);
}

function remove(req: ResourceRequest): Status {
  const { type } = req.info;
  const stored = getExisting(req);
  const preconditions = isRecord(req.body) && isRecord(req.body.preconditions) ? req.body.preconditions : {};
  const rv = preconditions.resourceVersion;
  if (typeof rv === 'string' && rv !== stored.metadata.resourceVersion) throw conflict(type, nameOf(req));
  req.store.delete(type, req.info.namespace, nameOf(req));
  return success(type, nameOf(req), stored.metadata.uid);
}

const STARTED = new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/** A uid that stays the same for a namespace name across requests. */
function namespaceUid(name: string): string {
  const hex = createHash('sha256').update(name).digest('hex');
  return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20, 32)].join('-');
}

function namespaceObject(name: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, uid: namespaceUid(name), resourceVersion: '1', creationTimestamp: STARTED },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  };
}

function handleNamespaces(req: ResourceRequest): Reply {
  const all = req.namespaces().sort().map(namespaceObject);
  if (req.info.verb === 'list') return respondList(req, all);
  if (req.info.verb !== 'get') throw methodNotAllowed();
  const found = all.find((ns) => ns.metadata.name === req.info.name);
  if (!found) throw notFound(NAMESPACES, nameOf(req));
  return respond(req, 200, found);
}
