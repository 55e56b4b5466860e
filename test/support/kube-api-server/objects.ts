// Kubernetes objects as the test server keeps them: shape, normalisation and validation.

import { badRequest, fieldInvalid, fieldRequired, invalid, type StatusCause } from './status.js';
import { groupVersionOf, SECRETS, type ResourceType } from './resources.js';

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function clone<T>(value: T): T {
  return structuredClone(value);
}

/** Reads a request body as an object of the given type, or throws 400 as the server does. */
export function asObject(type: ResourceType, body: unknown): KubeObject {
  if (!isRecord(body)) throw badRequest(`Object 'Kind' is missing in '${JSON.stringify(body)}'`);
  const metadata = body.metadata ?? {};
  if (!isRecord(metadata)) throw badRequest(`${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: metadata must be an object`);
  const apiVersion = groupVersionOf(type);
  if ((body.kind !== undefined && body.kind !== type.kind) || (body.apiVersion !== undefined && body.apiVersion !== apiVersion)) {
    throw badRequest(`the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${apiVersion})`);
  }
  return { ...clone(body), apiVersion, kind: type.kind, metadata: clone(metadata) as ObjectMeta };
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The byte offset Go's base64.StdEncoding reports for a value, or -1 when it decodes. */
function illegalBase64Offset(value: string): number {
  const bad = [...value].findIndex((c) => !/[A-Za-z0-9+/=]/.test(c));
  if (bad >= 0) return bad;
  if (value.length % 4 !== 0 || !BASE64.test(value)) return value.length - (value.length % 4 || 4);
  return -1;
}

/** Folds `stringData` into base64 `data` (stringData wins) and checks `data` decodes, as the API server does. */
function normaliseSecret(object: KubeObject): void {
  const data = object.data ?? {};
  const stringData = object.stringData ?? {};
  if (!isRecord(data) || !isRecord(stringData)) throw badRequest('Secret in version "v1" cannot be handled as a Secret: data and stringData must be maps');
  for (const [_key, value] of Object.entries(data)) {
    const offset = typeof value === 'string' ? illegalBase64Offset(value) : 0;
    if (offset >= 0) {
      throw badRequest(`Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte ${offset}`);
    }
  }
  for (const [key, value] of Object.entries(stringData)) {
    data[key] = Buffer.from(String(value), 'utf8').toString('base64');
  }
  delete object.stringData;
  object.data = data;
  object.type ??= 'Opaque';
}

export function normalise(type: ResourceType, object: KubeObject): KubeObject {
  if (type === SECRETS) normaliseSecret(object);
  return object;
}

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_MESSAGE =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const CONFIG_KEY_MESSAGE =
  "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

function nameCauses(name: string | undefined): StatusCause[] {
  if (!name) return [fieldRequired('metadata.name', 'name or generateName is required')];
  if (name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) return [fieldInvalid('metadata.name', name, DNS1123_MESSAGE)];
  return [];
}

function secretCauses(object: KubeObject, previous?: KubeObject): StatusCause[] {
  const keys = Object.keys(isRecord(object.data) ? object.data : {});
  const causes = keys.filter((k) => !CONFIG_KEY.test(k)).map((k) => fieldInvalid(`data[${k}]`, k, CONFIG_KEY_MESSAGE));
  if (previous && previous.type !== object.type) causes.push(fieldInvalid('type', String(object.type), 'field is immutable'));
  return causes;
}

/** Throws 422 Invalid when the (normalised) object would be refused by a real API server. */
export function validate(type: ResourceType, object: KubeObject, previous?: KubeObject): void {
  const causes = [...nameCauses(object.metadata.name)];
  if (type === SECRETS) causes.push(...secretCauses(object, previous));
  if (causes.length > 0) throw invalid(type, object.metadata.name ?? '', causes);
}

/** RFC 7386 JSON merge patch (strategic merge patch is treated the same way). */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return clone(patch);
  const result: Record<string, unknown> = isRecord(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}
