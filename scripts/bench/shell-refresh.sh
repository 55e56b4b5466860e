#!/usr/bin/env bash
# The way Secrets were refreshed before cap-token-refresh, reproduced for the benchmark:
# one Secret after another, one process per step (kubectl, jq, curl, jq, kubectl), one CAP
# call per Secret. Arguments: NAMESPACE/NAME ...; environment: KUBECONFIG, CAP_URL, AGENCY,
# MISSION, CAP_CERT_FILE, CAP_KEY_FILE, CAP_CA_FILE.
set -euo pipefail
for target in "$@"; do
  ns=${target%%/*}
  name=${target#*/}
  secret=$(kubectl get secret -n "$ns" "$name" -o json)
  role=$(jq -r '.metadata.annotations["cap-token-refresh/role"]' <<<"$secret")
  creds=$(curl -sS --fail --cert "$CAP_CERT_FILE" --key "$CAP_KEY_FILE" --cacert "$CAP_CA_FILE" \
    "$CAP_URL/api/v1/credentials?agency=$AGENCY&mission=$MISSION&role=$role")
  now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  # (The original passed the response on jq's command line too; kept for fidelity.)
  jq --argjson c "$creds" --arg now "$now" '
    ($c.Credentials // $c) as $k
    | .data.aws_access_key_id = ($k.AccessKeyId | @base64)
    | .data.aws_secret_access_key = ($k.SecretAccessKey | @base64)
    | .data.credentials = ("[default]\naws_access_key_id = \($k.AccessKeyId)\naws_secret_access_key = \($k.SecretAccessKey)\naws_session_token = \($k.SessionToken)\n" | @base64)
    | .metadata.annotations["cap-token-refresh/expiration"] = $k.Expiration
    | .metadata.annotations["cap-token-refresh/refreshed-at"] = $now
    | .metadata.labels["cap-token-refresh/managed"] = "true"' <<<"$secret" \
    | kubectl replace -f - >/dev/null
done
