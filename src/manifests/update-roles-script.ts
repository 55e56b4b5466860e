import { DEFAULT_REGION, type IamRole, type Partition, type RoleSettings, TRUST_POLICY_FILE, TRUST_POLICY_PLACEHOLDER } from './iam.js';
import { rolesScript } from './roles-script.js';

export const UPDATE_ROLES_SCRIPT_FILE = 'update-roles.sh';

/**
 * update-roles.sh of `preflight --out`: the same script as create-roles.sh (roles-script.ts),
 * for the roles of the next release's new and changed CredentialsRequests.
 */
export function updateRolesScript(roles: readonly IamRole[], partition: Partition, settings: RoleSettings = {}): string {
  return rolesScript(roles, {
    partition,
    region: DEFAULT_REGION[partition],
    trustPolicyFile: TRUST_POLICY_FILE,
    placeholder: TRUST_POLICY_PLACEHOLDER,
    permissionsBoundary: settings.permissionsBoundary,
    rolePath: settings.rolePath,
    header: [
      "Brings the IAM roles of the next release's CredentialsRequests up to date before the upgrade.",
      'Written by `cap-token-refresh preflight --out`.',
    ],
  });
}
