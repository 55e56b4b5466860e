import type { StatementEntry } from './credentials-requests.js';
import { rolesScript, type ScriptRole } from './roles-script.js';

export type Partition = 'aws-iso' | 'aws-iso-b';
export const PARTITIONS: readonly Partition[] = ['aws-iso', 'aws-iso-b'];
export const DEFAULT_REGION: Record<Partition, string> = { 'aws-iso': 'us-iso-east-1', 'aws-iso-b': 'us-isob-east-1' };

export const TRUST_POLICY_FILE = 'trust-policy.json';
export const CREATE_ROLES_SCRIPT_FILE = 'create-roles.sh';
export const TRUST_POLICY_PLACEHOLDER = 'REPLACE_WITH';

export interface IamPolicyStatement {
  Effect: 'Allow' | 'Deny';
  Action: string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}

export interface IamPolicyDocument {
  Version: '2012-10-17';
  Statement: IamPolicyStatement[];
}

export interface TrustPolicyDocument {
  Version: '2012-10-17';
  Statement: { Effect: 'Allow'; Principal: { AWS: string }; Action: 'sts:AssumeRole' }[];
}

/** One IAM role to create: its name, its inline policy's name, and the file holding that policy. */
export type IamRole = ScriptRole;

/** How roles are created beyond their policies: `--permissions-boundary` and `--role-path` of generate. */
export interface RoleSettings {
  permissionsBoundary?: string | undefined;
  rolePath?: string | undefined;
}

/**
 * A resource ARN of the commercial partition (`arn:aws:...`, as upstream requests are written)
 * in the chosen one (`arn:aws-iso:...`); `*` and ARNs of another partition stay as they are.
 */
export function resourceInPartition(resource: string, partition: Partition): string {
  return resource.startsWith('arn:aws:') ? `arn:${partition}:${resource.slice('arn:aws:'.length)}` : resource;
}

/** The permission policy of a role, statement for statement from the CredentialsRequest, its resource ARNs in the partition. */
export function permissionPolicy(statementEntries: readonly StatementEntry[], partition: Partition): IamPolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: statementEntries.map((entry) => ({
      Effect: entry.effect,
      Action: entry.action,
      Resource:
        typeof entry.resource === 'string' ? resourceInPartition(entry.resource, partition) : entry.resource.map((r) => resourceInPartition(r, partition)),
      ...(entry.policyCondition ? { Condition: entry.policyCondition } : {}),
    })),
  };
}

/** A problem with --permissions-boundary for this partition, or undefined when it is a managed policy ARN of it. */
export function permissionsBoundaryProblem(arn: string, partition: Partition): string | undefined {
  const name = '[\\w+=,.@-]+';
  const pattern = new RegExp(`^arn:${partition}:iam::(\\d{12}|aws):policy(/${name})*/${name}$`);
  if (pattern.test(arn)) return undefined;
  return `--permissions-boundary ${JSON.stringify(arn)}: give the ARN of a managed policy in partition ${partition}, arn:${partition}:iam::ACCOUNT_ID:policy/NAME`;
}

/** A problem with --role-path, or undefined when IAM accepts it: `/`, or `/` + printable ASCII + `/`, at most 512 characters. */
export function rolePathProblem(path: string): string | undefined {
  if (path.length <= 512 && /^(\/|\/[\u0021-\u007E]+\/)$/.test(path)) return undefined;
  return `--role-path ${JSON.stringify(path)}: give an IAM path that starts and ends with /, such as /openshift/ (printable ASCII, no spaces, at most 512 characters)`;
}

export function policyFileName(role: string): string {
  return `${role}-policy.json`;
}

/** Who may assume the roles is the site's to say (CAP's own principal); the script refuses to run until it is filled. */
export function trustPolicyPlaceholder(partition: Partition): TrustPolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: `arn:${partition}:iam::${TRUST_POLICY_PLACEHOLDER}_ACCOUNT_ID:role/${TRUST_POLICY_PLACEHOLDER}_CAP_PRINCIPAL` },
        Action: 'sts:AssumeRole',
      },
    ],
  };
}

export const UPDATE_ROLES_SCRIPT_FILE = 'update-roles.sh';

/** create-roles.sh: creates each role that is missing with its trust policy, and puts every permission policy (roles-script.ts). */
export function createRolesScript(roles: readonly IamRole[], partition: Partition, settings: RoleSettings = {}): string {
  return partitionRolesScript(roles, partition, settings, [
    "Creates the IAM roles the cluster's operators use, one per CredentialsRequest.",
    'Written by `cap-token-refresh generate`.',
  ]);
}

/**
 * update-roles.sh of `preflight --out`: the same script as create-roles.sh, for the roles of the
 * next release's new and changed CredentialsRequests.
 */
export function updateRolesScript(roles: readonly IamRole[], partition: Partition, settings: RoleSettings = {}): string {
  return partitionRolesScript(roles, partition, settings, [
    "Brings the IAM roles of the next release's CredentialsRequests up to date before the upgrade.",
    'Written by `cap-token-refresh preflight --out`.',
  ]);
}

function partitionRolesScript(roles: readonly IamRole[], partition: Partition, settings: RoleSettings, header: string[]): string {
  return rolesScript(roles, {
    partition,
    region: DEFAULT_REGION[partition],
    trustPolicyFile: TRUST_POLICY_FILE,
    placeholder: TRUST_POLICY_PLACEHOLDER,
    permissionsBoundary: settings.permissionsBoundary,
    rolePath: settings.rolePath,
    header,
  });
}
