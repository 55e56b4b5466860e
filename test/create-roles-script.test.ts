// iam/create-roles.sh run for real: bash (and dash, for POSIX sh) against a fake `aws` put
// first on PATH, which records every call and answers `iam get-role` from a state file as IAM
// does (exit 254 with NoSuchEntity for a role it does not have). Run twice it keeps the roles
// and puts their policies again; with --update-trust it replaces their trust policies.
import { execFile } from 'node:child_process';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { generate, type GenerateResult } from '../src/commands/generate.js';
import { OC_EXTRACT_AWS } from './support/fixtures.js';
import { makeTempDir } from './support/temp-dir.js';

const run = promisify(execFile);

const FAKE_AWS = `#!/bin/bash
# Records its call (AWS_REGION, then the arguments, tab-separated) and answers like IAM.
{ printf '%s' "$AWS_REGION"; printf '\\t%s' "$@"; printf '\\n'; } >> "$FAKE_AWS_LOG"
role=""; prev=""
for a in "$@"; do
  [ "$prev" = "--role-name" ] && role="$a"
  case "$a" in file://*) [ -f "\${a#file://}" ] || { echo "Error parsing parameter: Unable to load paramfile $a" >&2; exit 255; } ;; esac
  prev="$a"
done
case "$1 $2" in
  "iam get-role")
    if [ -f "$FAKE_AWS_DENY" ] && grep -qxF -- "$role" "$FAKE_AWS_DENY"; then
      echo "An error occurred (AccessDenied) when calling the GetRole operation: not authorized to perform iam:GetRole" >&2; exit 254
    fi
    if grep -qxF -- "$role" "$FAKE_AWS_STATE"; then echo "{\\"Role\\": {\\"RoleName\\": \\"$role\\"}}"; exit 0; fi
    echo "An error occurred (NoSuchEntity) when calling the GetRole operation: The role with name $role cannot be found." >&2; exit 254 ;;
  "iam create-role") echo "$role" >> "$FAKE_AWS_STATE"; echo '{"Role": {}}' ;;
esac
exit 0
`;

const BOUNDARY = 'arn:aws-iso-b:iam::123456789012:policy/ocp-boundary';

interface Call {
  region: string;
  args: string[];
}

let dir: string;
let iamDir: string;
let result: GenerateResult;
let env: NodeJS.ProcessEnv;

async function runScript(args: string[] = [], shell = 'bash'): Promise<{ code: number; stdout: string; stderr: string; calls: Call[] }> {
  const log = join(dir, 'aws-calls.log');
  await writeFile(log, '');
  const outcome = await run(shell, [join(iamDir, 'create-roles.sh'), ...args], { env, cwd: dir }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code?: number; stdout?: string; stderr?: string }) => ({ code: error.code ?? -1, stdout: error.stdout ?? '', stderr: error.stderr ?? '' }),
  );
  const calls = (await readFile(log, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [region, ...rest] = line.split('\t');
      return { region: region ?? '', args: rest };
    });
  return { ...outcome, calls };
}

const verbs = (calls: Call[], verb: string) => calls.filter((c) => c.args[0] === 'iam' && c.args[1] === verb);
const roleOf = (call: Call) => call.args[call.args.indexOf('--role-name') + 1];

beforeAll(async () => {
  dir = await makeTempDir('cap-create-roles-');
  result = await generate(
    { credentialsRequests: OC_EXTRACT_AWS, out: 'manifests', partition: 'aws-iso-b', permissionsBoundary: BOUNDARY, rolePath: '/openshift/' },
    { cwd: dir },
  );
  iamDir = result.iamDir;
  const bin = join(dir, 'bin');
  await mkdir(bin);
  await writeFile(join(bin, 'aws'), FAKE_AWS);
  await chmod(join(bin, 'aws'), 0o755);
  await writeFile(join(dir, 'state'), '');
  const { AWS_REGION: _region, ...rest } = process.env;
  env = {
    ...rest,
    PATH: `${bin}:${process.env.PATH ?? ''}`,
    FAKE_AWS_LOG: join(dir, 'aws-calls.log'),
    FAKE_AWS_STATE: join(dir, 'state'),
    FAKE_AWS_DENY: join(dir, 'deny'),
  };
});

describe('iam/create-roles.sh', () => {
  it('parses (bash -n, sh -n)', async () => {
    await expect(run('bash', ['-n', join(iamDir, 'create-roles.sh')])).resolves.toMatchObject({ stderr: '' });
    await expect(run('sh', ['-n', join(iamDir, 'create-roles.sh')])).resolves.toMatchObject({ stderr: '' });
  });

  it('refuses to create a role while trust-policy.json holds placeholders, and calls no create-role', async () => {
    const first = await runScript();
    expect(first.code).toBe(1);
    expect(first.stderr).toBe('trust-policy.json still holds REPLACE_WITH_... placeholders; fill it in first\n');
    expect(verbs(first.calls, 'create-role')).toEqual([]);
  });

  it('creates every missing role with the path and boundary, puts its policy, in the partition region', async () => {
    const trust = join(iamDir, 'trust-policy.json');
    await writeFile(trust, (await readFile(trust, 'utf8')).replace('REPLACE_WITH_ACCOUNT_ID', '123456789012').replace('REPLACE_WITH_CAP_PRINCIPAL', 'cap'));
    const created = await runScript();
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const roles = result.secrets.map((s) => s.role);
    expect(verbs(created.calls, 'create-role').map((c) => c.args)).toEqual(
      roles.map((role) => [
        'iam',
        'create-role',
        '--role-name',
        role,
        '--assume-role-policy-document',
        'file://trust-policy.json',
        '--path',
        '/openshift/',
        '--permissions-boundary',
        BOUNDARY,
      ]),
    );
    expect(verbs(created.calls, 'put-role-policy').map((c) => c.args)).toEqual(
      result.secrets.map((s) => [
        'iam',
        'put-role-policy',
        '--role-name',
        s.role,
        '--policy-name',
        s.credentialsRequest,
        '--policy-document',
        `file://${s.role}-policy.json`,
      ]),
    );
    expect(verbs(created.calls, 'update-assume-role-policy')).toEqual([]);
    expect(new Set(created.calls.map((c) => c.region))).toEqual(new Set(['us-isob-east-1']));
    for (const role of roles) expect(created.stdout).toContain(`role ${role}: created\n`);
  });

  it('run again (bash and sh): keeps every role and its trust policy, puts every policy and the boundary again', async () => {
    for (const shell of ['bash', 'sh']) {
      const again = await runScript([], shell);
      expect(again.stderr).toBe('');
      expect(again.code).toBe(0);
      expect(verbs(again.calls, 'create-role')).toEqual([]);
      expect(verbs(again.calls, 'update-assume-role-policy')).toEqual([]);
      expect(verbs(again.calls, 'get-role').map(roleOf)).toEqual(result.secrets.map((s) => s.role));
      expect(verbs(again.calls, 'put-role-policy').map(roleOf)).toEqual(result.secrets.map((s) => s.role));
      expect(verbs(again.calls, 'put-role-permissions-boundary').map((c) => c.args.slice(2))).toEqual(
        result.secrets.map((s) => ['--role-name', s.role, '--permissions-boundary', BOUNDARY]),
      );
      for (const { role } of result.secrets) expect(again.stdout).toContain(`role ${role}: kept (trust policy unchanged)\n`);
    }
  });

  it('with --update-trust replaces the trust policy of every kept role', async () => {
    const trusted = await runScript(['--update-trust']);
    expect(trusted.code).toBe(0);
    expect(verbs(trusted.calls, 'update-assume-role-policy').map((c) => c.args)).toEqual(
      result.secrets.map((s) => ['iam', 'update-assume-role-policy', '--role-name', s.role, '--policy-document', 'file://trust-policy.json']),
    );
    expect(verbs(trusted.calls, 'create-role')).toEqual([]);
    expect(verbs(trusted.calls, 'put-role-policy')).toHaveLength(result.secrets.length);
  });

  it('creates only the role that went missing', async () => {
    const gone = result.secrets[2]!.role;
    const state = join(dir, 'state');
    await writeFile(state, (await readFile(state, 'utf8')).replace(`${gone}\n`, ''));
    const partly = await runScript();
    expect(partly.code).toBe(0);
    expect(verbs(partly.calls, 'create-role').map(roleOf)).toEqual([gone]);
    expect(verbs(partly.calls, 'put-role-policy')).toHaveLength(result.secrets.length);
  });

  it('stops at a get-role failure other than NoSuchEntity, naming the role, without creating it', async () => {
    const denied = result.secrets[1]!.role;
    await writeFile(join(dir, 'deny'), `${denied}\n`);
    const stopped = await runScript();
    await writeFile(join(dir, 'deny'), '');
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toBe(
      `aws iam get-role --role-name ${denied} failed: An error occurred (AccessDenied) when calling the GetRole operation: not authorized to perform iam:GetRole\n`,
    );
    expect(verbs(stopped.calls, 'create-role')).toEqual([]);
    expect(verbs(stopped.calls, 'put-role-policy').map(roleOf)).toEqual([result.secrets[0]!.role]);
  });

  it('refuses an unknown argument with status 2 before any call', async () => {
    const wrong = await runScript(['--update-trusts']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/^unknown argument --update-trusts; usage: .*create-roles\.sh \[--update-trust\]\n$/);
    expect(wrong.calls).toEqual([]);
  });
});
