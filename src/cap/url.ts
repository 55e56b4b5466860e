import { displayUrl } from '../core/display-url.js';
import { PLACEHOLDER_SETTINGS, PLACEHOLDERS, type CapQuery, type Placeholder } from '../core/cap-query.js';
import { ConfigError } from '../core/errors.js';

const API_PATH = '/api/v1/credentials';

// The URL parser keeps `{x}` as it is in the query and host but writes `%7Bx%7D` in the path.
const PLACEHOLDER = /\{([A-Za-z]+)\}|%7B([A-Za-z]+)%7D/gi;

/** The placeholders a CAP_URL names, in the order they appear; empty for a plain (C2S) CAP_URL. */
export function placeholdersOf(capUrl: URL): Placeholder[] {
  const found: Placeholder[] = [];
  for (const m of capUrl.href.matchAll(PLACEHOLDER)) {
    const name = (m[1] ?? m[2] ?? '').toLowerCase() as Placeholder;
    if (!found.includes(name)) found.push(name);
  }
  return found;
}

/** The settings a due target needs: those its template names (besides the role), else agency and mission. */
export function requiredSettings(capUrl: URL): Exclude<Placeholder, 'role'>[] {
  const named = placeholdersOf(capUrl);
  if (named.length === 0) return ['agency', 'mission'];
  return named.filter((p): p is Exclude<Placeholder, 'role'> => p !== 'role');
}

/**
 * Checks CAP_URL before any network call: an https URL without credentials. A plain URL has
 * no query; a template may carry one, with `{agency}`, `{mission}`, `{account}` and `{role}`.
 */
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
  for (const m of url.href.matchAll(PLACEHOLDER)) {
    const name = (m[1] ?? m[2] ?? '').toLowerCase();
    if (!(PLACEHOLDERS as readonly string[]).includes(name)) {
      throw new ConfigError(`CAP_URL names a placeholder {${name}} that is not known; use {agency}, {mission}, {account} and {role}`);
    }
  }
  if (placeholdersOf(url).length > 0) {
    // The filled-in template must still be an https URL on the same kind of host.
    try {
      fillTemplate(url, { agency: 'a', mission: 'm', account: 'c', role: 'r' });
    } catch {
      throw new ConfigError('CAP_URL is a template that does not give a valid URL once its placeholders are filled in');
    }
  }
  return url;
}

/**
 * The URL of one CAP request. A template gets each placeholder's value URL-encoded where it
 * stands; a value it names but that is missing is a ConfigError naming the setting to give.
 * A plain CAP_URL gives `<CAP_URL>/api/v1/credentials?agency=&mission=&role=` (a CAP_URL
 * already ending in the API path is used as it is).
 */
export function buildCredentialsUrl(capUrl: URL, q: CapQuery): URL {
  if (placeholdersOf(capUrl).length > 0) return fillTemplate(capUrl, q);
  const url = new URL(capUrl.href);
  const path = url.pathname.replace(/\/+$/, '');
  url.pathname = path.endsWith(API_PATH) ? path : `${path}${API_PATH}`;
  url.search = '';
  url.searchParams.set('agency', q.agency);
  url.searchParams.set('mission', q.mission);
  url.searchParams.set('role', q.role);
  return url;
}

/** The settings of `q` that `capUrl` needs and lacks; empty when it can be filled in. */
export function missingSettings(capUrl: URL, q: Partial<CapQuery>): Placeholder[] {
  const needed: Placeholder[] = [...requiredSettings(capUrl), 'role'];
  return needed.filter((p) => !q[p]);
}

function fillTemplate(capUrl: URL, q: Partial<CapQuery>): URL {
  const href = capUrl.href.replace(PLACEHOLDER, (_all, a?: string, b?: string) => {
    const name = (a ?? b ?? '').toLowerCase() as Placeholder;
    const value = q[name];
    if (!value) throw new ConfigError(`CAP_URL names {${name}} but there is no ${name}: give ${PLACEHOLDER_SETTINGS[name]}`);
    return encodeURIComponent(value);
  });
  const url = new URL(href);
  if (url.protocol !== 'https:' || url.username || url.password)
    throw new ConfigError('CAP_URL does not give an https URL once its placeholders are filled in');
  return url;
}

/** The URL as it may appear in messages: scheme, host, port and path, never userinfo or query (displayUrl). */
export function describeUrl(url: URL): string {
  return displayUrl(url);
}
