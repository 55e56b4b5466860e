#!/usr/bin/env bash
# Seeds the Secret manifests with one CAP response read from standard input:
#
#   curl --cert client.crt --key client.key "$CAP_URL/api/v1/credentials?agency=A&mission=M&role=R" \
#     | hack/fill-credentials.sh
#   ... | profile=NAME hack/fill-credentials.sh     # also set profile NAME in ~/.aws/credentials
#   ... | hack/fill-credentials.sh profile=NAME     # the same
#
# Writes every Secret manifest carrying the cap-token-refresh/role annotation under the
# repository's manifests/ (or $MANIFESTS_DIR). It runs `cap-token-refresh fill`; see
# `bin/cap-token-refresh fill --help`. Bad input (empty, HTML, truncated, expired) changes nothing.
set -euo pipefail

script="$(readlink -f "${BASH_SOURCE[0]}" 2>/dev/null || printf '%s' "${BASH_SOURCE[0]}")"
repo="$(cd "$(dirname "$script")/.." && pwd)"
me="hack/fill-credentials.sh"

usage() {
  sed -n '2,11p' "$script" | sed 's/^# \{0,1\}//'
}

profile="${profile:-}"
for arg in "$@"; do
  case "$arg" in
    profile=*) profile="${arg#profile=}" ;;
    -h|--help) usage; exit 0 ;;
    *) echo "$me: unknown argument '$arg'; the only argument is profile=NAME" >&2; exit 2 ;;
  esac
done

if [[ ! -f "$repo/dist/cap-token-refresh.js" ]]; then
  echo "$me: the project is not built ($repo/dist is missing); run npm ci && npm run build in $repo" >&2
  exit 3
fi
if ! command -v node >/dev/null 2>&1; then
  echo "$me: node is not on PATH; install Node.js 20 or later" >&2
  exit 3
fi
if [[ -t 0 ]]; then
  echo "$me: pipe a CAP response into it, for example: curl ... \"\$CAP_URL/api/v1/credentials?...\" | $me" >&2
  exit 2
fi

args=(fill --manifests "${MANIFESTS_DIR:-$repo/manifests}")
if [[ -n "$profile" ]]; then
  args+=(--profile "$profile")
fi
exec node "$repo/bin/cap-token-refresh" "${args[@]}"
