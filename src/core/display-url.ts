// The one way a URL is printed (docs/DESIGN.md, "Never": the userinfo or query of any URL in
// any output). A kubeconfig server or proxy-url, HTTPS_PROXY and CAP_URL may carry a user
// name and password (`https://user:pw@proxy:3128`) or a token in the query; what is shown is
// scheme, host, port and path only.

/**
 * URL as it may appear in a log line, an error, a report or a summary: scheme, host, port
 * and path; never the userinfo, query or fragment. A path of only `/` is left out, so
 * `https://api.example:6443` reads as it was written. Text that does not parse as a URL is
 * cut the same way by hand (userinfo up to the last `@` of the authority, everything from
 * the first `?` or `#`).
 */
export function displayUrl(value: string | URL): string {
  let url: URL | undefined;
  if (value instanceof URL) url = value;
  else {
    try {
      url = new URL(value);
    } catch {
      url = undefined;
    }
  }
  if (url && url.host !== '') {
    const path = url.pathname === '/' ? '' : url.pathname;
    return `${url.protocol}//${url.host}${path}`;
  }
  return cutByHand(String(value));
}

/** A user name or password before the host, whether or not the rest parses as a URL. */
export function hasUserinfo(value: string): boolean {
  try {
    const url = new URL(value);
    if (url.username !== '' || url.password !== '') return true;
  } catch {
    // Not a URL: look at the text itself below.
  }
  const authority = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/.exec(value)?.[1] ?? '';
  return authority.includes('@');
}

function cutByHand(text: string): string {
  const noQuery = text.replace(/[?#].*$/s, '');
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*:)?\/\//.exec(noQuery);
  if (!scheme) {
    // `user:pw@host:port` without a scheme: drop what comes before the last `@` of the first segment.
    const slash = noQuery.indexOf('/');
    const authority = slash < 0 ? noQuery : noQuery.slice(0, slash);
    const at = authority.lastIndexOf('@');
    return at < 0 ? noQuery : noQuery.slice(at + 1);
  }
  const rest = noQuery.slice(scheme[0].length);
  const slash = rest.indexOf('/');
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  const at = authority.lastIndexOf('@');
  return `${scheme[0]}${at < 0 ? rest : rest.slice(at + 1)}`;
}

// A URL inside free text: a scheme, `//`, then anything up to whitespace, a quote or an angle
// bracket (so a URL inside a JSON string ends at its closing quote).
const URL_IN_TEXT = /\b[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s"'<>`]+/g;

/**
 * Every URL in TEXT put through displayUrl, for output that did not come through it (a
 * library's message, say): the redactor's last line of defence. A URL without userinfo,
 * query or fragment is left exactly as it is.
 */
export function scrubUrls(text: string): string {
  return text.replace(URL_IN_TEXT, (found) => {
    if (!/[@?#]/.test(found)) return found;
    // Punctuation that ends a sentence is not part of the URL.
    const tail = /[.,;:)\]]+$/.exec(found)?.[0] ?? '';
    const core = tail ? found.slice(0, -tail.length) : found;
    return `${displayUrl(core)}${tail}`;
  });
}
