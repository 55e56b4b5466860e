// Status objects worded as a real API server words them (k8s.io/apimachinery/pkg/api/errors).

import { qualifiedKind, qualifiedResource, type ResourceType } from './resources.js';

export interface StatusCause {
  reason?: string;
  message: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

/** Thrown by handlers; the server answers with its Status. */
export class StatusError extends Error {
  /** Sent as Retry-After, as the real server does with 429 from priority and fairness. */
  retryAfterSeconds?: number;
  constructor(readonly status: Status) {
    super(status.message ?? status.reason ?? String(status.code));
  }
}

export const CONFLICT_DETAIL = 'the object has been modified; please apply your changes to the latest version and try again';

function failure(code: number, reason: string, message: string, details?: StatusDetails): StatusError {
  return new StatusError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  });
}

function resourceDetails(type: ResourceType, name: string): StatusDetails {
  return { name, ...(type.group ? { group: type.group } : {}), kind: type.resource };
}

export function success(type: ResourceType, name: string, uid?: string): Status {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: { ...resourceDetails(type, name), ...(uid ? { uid } : {}) },
    code: 200,
  };
}

export function notFound(type: ResourceType, name: string): StatusError {
  return failure(404, 'NotFound', `${qualifiedResource(type)} "${name}" not found`, resourceDetails(type, name));
}

export function alreadyExists(type: ResourceType, name: string): StatusError {
  return failure(409, 'AlreadyExists', `${qualifiedResource(type)} "${name}" already exists`, resourceDetails(type, name));
}

export function conflict(type: ResourceType, name: string): StatusError {
  const message = `Operation cannot be fulfilled on ${qualifiedResource(type)} "${name}": ${CONFLICT_DETAIL}`;
  return failure(409, 'Conflict', message, resourceDetails(type, name));
}

export interface ForbiddenAttributes {
  type: ResourceType;
  verb: string;
  user: string;
  namespace?: string | undefined;
  name?: string | undefined;
}

export function forbidden({ type, verb, user, namespace, name }: ForbiddenAttributes): StatusError {
  const scope = namespace ? `in the namespace "${namespace}"` : 'at the cluster scope';
  const why = `User "${user}" cannot ${verb} resource "${type.resource}" in API group "${type.group}" ${scope}`;
  const subject = name ? `${qualifiedResource(type)} "${name}"` : qualifiedResource(type);
  return failure(403, 'Forbidden', `${subject} is forbidden: ${why}`, resourceDetails(type, name ?? ''));
}

/** One field error, e.g. `metadata.name: Invalid value: "X": must be ...`. */
export function fieldInvalid(field: string, value: string, detail: string): StatusCause {
  return { reason: 'FieldValueInvalid', field, message: `Invalid value: ${JSON.stringify(value)}: ${detail}` };
}

export function fieldRequired(field: string, detail: string): StatusCause {
  return { reason: 'FieldValueRequired', field, message: `Required value: ${detail}` };
}

export function invalid(type: ResourceType, name: string, causes: StatusCause[]): StatusError {
  const texts = causes.map((c) => `${c.field}: ${c.message}`);
  const joined = texts.length === 1 ? texts[0] : `[${texts.join(', ')}]`;
  const details = { name, ...(type.group ? { group: type.group } : {}), kind: type.kind, causes };
  return failure(422, 'Invalid', `${qualifiedKind(type)} "${name}" is invalid: ${joined}`, details);
}

export function badRequest(message: string): StatusError {
  return failure(400, 'BadRequest', message);
}

export function unauthorized(): StatusError {
  return failure(401, 'Unauthorized', 'Unauthorized');
}

export function pageNotFound(): StatusError {
  return failure(404, 'NotFound', 'the server could not find the requested resource');
}

export function methodNotAllowed(): StatusError {
  return failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
}

export function unsupportedMediaType(contentType: string): StatusError {
  return failure(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got ${contentType})`,
  );
}

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  410: 'Expired',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/** A Status for an injected fault; resource errors are worded as the real ones when possible. */
export function injected(
  code: number,
  target: { type?: ResourceType | undefined; name?: string | undefined; verb: string; user: string; namespace?: string | undefined },
  message?: string,
): StatusError {
  const { type, name } = target;
  if (!message && type) {
    if (code === 409 && name) return conflict(type, name);
    if (code === 404 && name) return notFound(type, name);
    if (code === 403) return forbidden({ ...target, type });
  }
  const reason = REASONS[code] ?? 'Unknown';
  const text = message ?? (code === 500 ? 'Internal error occurred: injected fault' : `injected fault (${code})`);
  return failure(code, reason, text, code === 500 ? { causes: [{ message: text }] } : undefined);
}
