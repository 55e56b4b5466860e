import { ConfigError } from '../core/errors.js';

const API_PATH = '/api/v1/credentials';

export interface CapQuery {
  agency: string;
  mission: string;
  role: string;
}

/** Checks CAP_URL before any network call: an https URL without credentials or a query. */
export function validateCapUrl(capUrl: string | undefined): URL {
  if (!capUrl) throw new ConfigError('no CAP URL: set CAP_URL or --cap-url (for example https://cap.example/api/v1/credentials)');
  let url: URL;
  try {
    url = new URL(capUrl);
  } catch {
    throw new ConfigError('CAP_URL is not a valid URL; expected something like https://cap.example/api/v1/credentials');
  }
  if (url.protocol !== 'https:') throw new ConfigError(`CAP_URL must use https (mutual TLS), not ${url.protocol.replace(':', '')}`);
  if (url.username || url.password) throw new ConfigError('CAP_URL must not carry a user name or password; CAP authenticates the client certificate');
  return url;
}

/** `<CAP_URL>/api/v1/credentials?agency=&mission=&role=`; a CAP_URL already ending in the API path is used as it is. */
export function buildCredentialsUrl(capUrl: URL, q: CapQuery): URL {
  const url = new URL(capUrl.href);
  const path = url.pathname.replace(/\/+$/, '');
  url.pathname = path.endsWith(API_PATH) ? path : `${path}${API_PATH}`;
  url.search = '';
  url.searchParams.set('agency', q.agency);
  url.searchParams.set('mission', q.mission);
  url.searchParams.set('role', q.role);
  return url;
}

/** The URL as it may appear in messages: scheme, host and path, never the query. */
export function describeUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}
