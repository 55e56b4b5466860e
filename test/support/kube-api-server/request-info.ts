// What a request asks for, parsed from its method and path as the API server does.

import { findResourceType, type ResourceType } from './resources.js';

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection' | string;

export interface RequestInfo {
  method: string;
  path: string;
  query: URLSearchParams;
  verb: Verb;
  /** false for discovery and other non-resource paths. */
  isResourceRequest: boolean;
  group: string;
  version: string;
  resource?: string | undefined;
  type?: ResourceType | undefined;
  namespace?: string | undefined;
  name?: string | undefined;
  subresource?: string | undefined;
}

const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

export function isWrite(info: RequestInfo): boolean {
  return info.isResourceRequest && WRITE_VERBS.has(info.verb);
}

function verbOf(method: string, hasName: boolean, query: URLSearchParams): Verb {
  switch (method) {
    case 'GET':
    case 'HEAD':
      if (query.get('watch') === 'true' || query.get('watch') === '1') return 'watch';
      return hasName ? 'get' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return hasName ? 'delete' : 'deletecollection';
    default:
      return method.toLowerCase();
  }
}

/** Splits `/api/v1/...` or `/apis/<group>/<version>/...` into group, version and the rest. */
function splitPrefix(segments: string[]): { group: string; version: string; rest: string[] } | undefined {
  if (segments[0] === 'api' && segments[1]) return { group: '', version: segments[1], rest: segments.slice(2) };
  if (segments[0] === 'apis' && segments[1] && segments[2]) {
    return { group: segments[1], version: segments[2], rest: segments.slice(3) };
  }
  return undefined;
}

export function parseRequest(method: string, rawUrl: string): RequestInfo {
  const url = new URL(rawUrl, 'https://localhost');
  const segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const base = { method, path: url.pathname, query: url.searchParams };
  const prefix = splitPrefix(segments);
  if (!prefix || prefix.rest.length === 0) {
    return { ...base, verb: method.toLowerCase(), isResourceRequest: false, group: '', version: '' };
  }
  const { group, version, rest } = prefix;
  // `namespaces/<ns>/<resource>[/<name>[/<sub>]]` is namespaced; `namespaces[/<name>]` is the Namespace itself.
  const namespaced = rest[0] === 'namespaces' && rest.length >= 3;
  const [resource, name, subresource] = namespaced ? rest.slice(2) : rest;
  const namespace = namespaced ? rest[1] : undefined;
  return {
    ...base,
    verb: verbOf(method, name !== undefined, url.searchParams),
    isResourceRequest: true,
    group,
    version,
    resource,
    type: resource ? findResourceType(group, version, resource) : undefined,
    namespace,
    name,
    subresource,
  };
}
