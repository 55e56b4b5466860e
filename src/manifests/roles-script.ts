/**
 * The one script that brings IAM roles to what the CredentialsRequests ask: `create-roles.sh`
 * of `generate` and `update-roles.sh` of `preflight --out` are both this text (only their
 * header differs). Safe to run again: a role that exists is kept, its trust policy replaced
 * only with `--update-trust`; every permission policy is put again (put-role-policy
 * overwrites), and so is the permissions boundary when one is set.
 */

/** One IAM role: its name, its inline policy's name, and the file holding that policy. */
export interface ScriptRole {
  role: string;
  policyName: string;
  policyFile: string;
}

export interface RolesScriptSettings {
  partition: string;
  region: string;
  /** The trust policy file beside the script, and the placeholder text that marks it unfilled. */
  trustPolicyFile: string;
  placeholder: string;
  /** `--permissions-boundary ARN` of create-role (and put-role-permissions-boundary of a kept role). */
  permissionsBoundary?: string | undefined;
  /** `--path` of create-role; IAM cannot move an existing role, so it applies to new roles only. */
  rolePath?: string | undefined;
  /** The lines that say what the script is for, and which command wrote it. */
  header: readonly string[];
}

/** A POSIX sh single-quoted word: nothing inside is expanded. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export function rolesScript(roles: readonly ScriptRole[], settings: RolesScriptSettings): string {
  const q = shellQuote;
  const trust = settings.trustPolicyFile;
  const createExtras = [
    ...(settings.rolePath !== undefined ? [`--path ${q(settings.rolePath)}`] : []),
    ...(settings.permissionsBoundary !== undefined ? [`--permissions-boundary ${q(settings.permissionsBoundary)}`] : []),
  ].join(' ');
  const lines = [
    '#!/bin/sh',
    ...settings.header.map((line) => `# ${line}`),
    `# Partition ${settings.partition}: role ARNs are arn:${settings.partition}:iam::<account-id>:role${settings.rolePath ?? '/'}<role>.`,
    '# Safe to run again, for this release and the next: a role that exists is kept, its trust',
    `# policy replaced with ${trust} only when run with --update-trust; every permission policy`,
    '# is put again.',
    `# Fill in ${trust} first (who may assume the roles: the CAP at this site).`,
    '# Arguments: [--update-trust]. Generated; regenerate rather than edit.',
    'set -eu',
    'cd "$(dirname "$0")"',
    `export AWS_REGION="\${AWS_REGION:-${settings.region}}"`,
    '',
    'update_trust=false',
    'for arg in "$@"; do',
    '  case "$arg" in',
    '    --update-trust) update_trust=true ;;',
    '    *) echo "unknown argument $arg; usage: $0 [--update-trust]" >&2; exit 2 ;;',
    '  esac',
    'done',
    '',
    'require_trust_policy() {',
    `  if grep -q ${q(settings.placeholder)} ${q(trust)}; then`,
    `    echo "${trust} still holds ${settings.placeholder}_... placeholders; fill it in first" >&2`,
    '    exit 1',
    '  fi',
    '}',
    '',
    '# 0 when the role exists, 1 when IAM says NoSuchEntity; any other failure stops the script.',
    'role_exists() {',
    '  if answer=$(aws iam get-role --role-name "$1" 2>&1 >/dev/null); then return 0; fi',
    '  case "$answer" in',
    '    *NoSuchEntity*) return 1 ;;',
    '    *) printf \'aws iam get-role --role-name %s failed: %s\\n\' "$1" "$answer" >&2; exit 1 ;;',
    '  esac',
    '}',
    '',
    '# ensure_role ROLE POLICY_NAME POLICY_FILE',
    'ensure_role() {',
    '  if role_exists "$1"; then',
    '    if [ "$update_trust" = true ]; then',
    '      require_trust_policy',
    `      aws iam update-assume-role-policy --role-name "$1" --policy-document ${q(`file://${trust}`)}`,
    '      echo "role $1: kept, trust policy updated"',
    '    else',
    '      echo "role $1: kept (trust policy unchanged)"',
    '    fi',
    ...(settings.permissionsBoundary !== undefined
      ? [`    aws iam put-role-permissions-boundary --role-name "$1" --permissions-boundary ${q(settings.permissionsBoundary)}`]
      : []),
    '  else',
    '    require_trust_policy',
    `    aws iam create-role --role-name "$1" --assume-role-policy-document ${q(`file://${trust}`)}${createExtras ? ` ${createExtras}` : ''} >/dev/null`,
    '    echo "role $1: created"',
    '  fi',
    '  aws iam put-role-policy --role-name "$1" --policy-name "$2" --policy-document "file://$3"',
    '  echo "role $1: policy $2 put"',
    '}',
    '',
    ...roles.map(({ role, policyName, policyFile }) => `ensure_role ${q(role)} ${q(policyName)} ${q(policyFile)}`),
  ];
  return `${lines.join('\n')}\n`;
}
