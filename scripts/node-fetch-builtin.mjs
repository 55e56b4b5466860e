// Stands in for node-fetch in the bundle. @kubernetes/client-node imports node-fetch, a
// fetch polyfill for old Node.js, for one `Headers` in KubeConfig and for its generated API
// classes, which this tool does not use (its API calls go through undici, src/kube/kube-api.ts).
// Node.js 20 has fetch and Headers built in; the polyfill would pull ~300 KB of URL and
// Unicode tables into every cluster run.
export const Headers = globalThis.Headers;
export const Request = globalThis.Request;
export const Response = globalThis.Response;
export class FetchError extends Error {}
export class AbortError extends Error {}
export default globalThis.fetch;
