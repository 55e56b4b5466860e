import { Command, CommanderError, Option } from 'commander';
import { EXIT_INTERNAL, EXIT_USAGE, errorMessage, exitStatusOf } from '../core/errors.js';
import type { CommandContext } from '../commands/context.js';
import { escapeControlLines } from '../core/display-text.js';
import { VERSION } from './version.js';

/** Flags every command that talks to CAP shares (docs/DESIGN.md's contract). */
function addCapFlags(cmd: Command): Command {
  return cmd
    .option('--cap-url <url>', 'CAP base URL, the full …/api/v1/credentials URL, or a template with {agency}, {mission}, {account} and {role} (env CAP_URL)')
    .option('--agency <agency>', 'CAP agency (env AGENCY)')
    .option('--mission <mission>', 'CAP mission (env MISSION)')
    .option('--account <account>', 'account name for a CAP_URL template with {account}, as SC2S uses (env CAP_ACCOUNT)')
    .option('--cert <file>', 'client certificate, PEM (env CAP_CERT_FILE)')
    .option('--key <file>', 'client private key, PEM, possibly encrypted (env CAP_KEY_FILE)')
    .option('--key-passphrase-file <file>', 'file holding the passphrase of --key (env CAP_KEY_PASSPHRASE_FILE)')
    .option('--pkcs12 <file>', 'client certificate and key as a PKCS#12 bundle (env CAP_PKCS12_FILE)')
    .option('--pkcs12-passphrase-file <file>', 'file holding the passphrase of --pkcs12 (env CAP_PKCS12_PASSPHRASE_FILE)')
    .option('--ca <file>', "CA bundle that signed CAP's server certificate (env CAP_CA_FILE; default: the system's)")
    .option(
      '--certs-dir <dir>',
      'a folder laid out as the certs Secret: tls.crt, tls.key, ca.crt, or client.p12, and passphrase (env CAP_CERTS_DIR; the CronJob uses /etc/cap-certs)',
    )
    .option('--timeout <duration>', 'timeout of one CAP request', '15s')
    .option('--retry-for <duration>', 'keep retrying a CAP call that fails for a passing reason (5xx, 429, refused, timed out) this long', '1m')
    .option('--assume-lifetime <duration>', "for a CAP that sends no Expiration: take it as this long from CAP's Date header (or now)");
}

function addLogFlags(cmd: Command, defaultLevel = 'info'): Command {
  return cmd
    .addOption(new Option('--log-format <format>', 'log lines on stderr (default: text on a terminal, json otherwise)').choices(['json', 'text']))
    .addOption(new Option('--log-level <level>', 'least level logged').choices(['debug', 'info', 'warn', 'error']).default(defaultLevel));
}

const outputOption = () => new Option('-o, --output <format>', 'report format').choices(['table', 'json']).default('table');
const collect = (value: string, previous: string[] = []) => [...previous, value];

export function buildProgram(ctx: CommandContext, setExitCode: (code: number) => void): Command {
  const program = new Command('cap-token-refresh')
    .description('Keeps OpenShift AWS credential Secrets alive with STS credentials from a CAP (C2S Access Portal) over mutual TLS')
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: ctx.stdout, writeErr: ctx.stderr });

  addLogFlags(
    addCapFlags(program.command('refresh').description('refresh managed Secrets that are due: in a cluster, or Secret manifests on disk with --manifests')),
  )
    .option('--manifests <dir>', 'refresh the Secret manifests in DIR that carry the cap-token-refresh/role annotation')
    .option('--target <namespace/name>', 'a Secret to refresh in the cluster (repeatable; default: discovered from CredentialsRequests)', collect)
    .option('--kubeconfig <file>', 'kubeconfig to use (default: in-cluster, then KUBECONFIG, then ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context to use')
    .option('--force', 'refresh every target, due or not')
    .option('--renew-before <duration>', 'also refresh when less than this is left (for example 20m)')
    .option('--concurrency <n>', 'CAP requests in flight at once', '4')
    .addOption(outputOption())
    .action(async (opts) => {
      const { refresh } = await import('../commands/refresh.js');
      setExitCode((await refresh(opts, ctx)).exitCode);
    });

  // The demo's report tells what happened; its log shows warnings and errors only, unless asked.
  addLogFlags(program.command('demo').description('run the refresh against a built-in CAP simulator with a throwaway PKI; no cluster needed'), 'warn').action(
    async (opts) => {
      const { demo } = await import('../commands/demo.js');
      setExitCode(await demo(opts, ctx));
    },
  );

  program
    .command('fill')
    .description('write one CAP response from standard input into every managed Secret manifest (and, with --profile, the AWS credentials file)')
    .option('--manifests <dir>', 'folder of Secret manifests to fill', 'manifests')
    .option('--profile <name>', 'also set this profile in the AWS shared credentials file (AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials)')
    .action(async (opts) => {
      const { fill } = await import('../commands/fill.js');
      setExitCode(await fill(opts, ctx));
    });

  program
    .command('generate')
    .description("write the install manifests and IAM policies from the release's AWS CredentialsRequests")
    .requiredOption(
      '--credentials-requests <path>',
      'file, folder of .yaml/.yml files, or - for standard input (as `oc adm release extract --credentials-requests --cloud=aws` writes)',
    )
    .option('--out <dir>', 'folder for the Kubernetes manifests', 'manifests')
    .option('--iam-out <dir>', 'folder for the IAM policies and create-roles.sh (default: iam/ beside --out)')
    .option('--cert <file>', 'client certificate, PEM, for the certs Secret (default: a placeholder)')
    .option('--key <file>', 'client private key, PEM, for the certs Secret (default: a placeholder)')
    .option('--ca <file>', "CA bundle of CAP's server certificate, PEM, for the certs Secret (default: a placeholder)")
    .option('--image <ref>', 'image of the CronJob (default: a placeholder)')
    .option('--cap-url <url>', 'CAP_URL of the CronJob, a plain URL or a template with {agency}, {mission}, {account}, {role} (default: a placeholder)')
    .option('--agency <agency>', 'AGENCY of the CronJob (default: a placeholder)')
    .option('--mission <mission>', 'MISSION of the CronJob (default: a placeholder)')
    .option('--account <account>', 'CAP_ACCOUNT of the CronJob, for a CAP_URL template with {account} (default: none)')
    .option(
      '--schedule <cron>',
      'schedule of the CronJob, kept as given (default: every 5 minutes, at a minute offset from a hash of --cluster-name, e.g. "3-59/5 * * * *")',
    )
    .option(
      '--https-proxy <url>',
      'HTTPS_PROXY of the CronJob, the proxy the pod reaches CAP through (OpenShift does not inject the cluster proxy into user pods)',
    )
    .option('--no-proxy <hosts>', 'NO_PROXY of the CronJob: comma-separated hosts, domains and CIDRs CAP calls reach directly (with --https-proxy)')
    .option(
      '--renew-before <duration>',
      'renewal margin of the CronJob: every run leaves each Secret at least this long; the alerts follow from it (default 30m)',
    )
    .option('--role-map <file>', 'YAML of "namespace/name: role" lines, one per Secret')
    .option('--role-template <template>', 'role name over {cluster}, {namespace}, {name} (default: {cluster}-{namespace}-{name})')
    .option('--cluster-name <name>', 'the {cluster} of the role template (default: CLUSTER_NAME), and what spreads the default schedule')
    .addOption(new Option('--partition <partition>', 'AWS partition of the IAM script').choices(['aws-iso', 'aws-iso-b']).default('aws-iso'))
    .option('--permissions-boundary <arn>', 'managed policy ARN (of --partition) that create-roles.sh gives every role as its permissions boundary')
    .option('--role-path <path>', 'IAM path of the roles create-roles.sh creates, such as /openshift/ (default /)')
    .option(
      '--install-config <file>',
      "the cluster's install-config.yaml: leave out requests whose capabilities (capability.openshift.io/name) it does not enable",
    )
    .option('--include-tech-preview', 'also keep requests of the TechPreviewNoUpgrade feature set')
    .option('--feature-gates <a,b>', 'keep requests behind these feature gates (comma-separated, repeatable)', collect)
    .option('--force', 'overwrite files that exist with other content')
    .action(async (opts) => {
      const { generateCommand } = await import('../commands/generate.js');
      setExitCode(await generateCommand(opts, ctx));
    });

  addLogFlags(
    addCapFlags(
      program
        .command('credential-process')
        .description('print AWS credential_process JSON (Version 1) for a role, cached in the user cache folder until shortly before expiry'),
    ),
  )
    .requiredOption('--role <role>', 'IAM role CAP should issue credentials for')
    .option('--min-remaining <duration>', 'reuse cached credentials only while at least this is left', '5m')
    .option('--no-cache', 'always ask CAP and store nothing')
    .action(async (opts) => {
      const { credentialProcess } = await import('../commands/credential-process.js');
      setExitCode(await credentialProcess(opts, ctx));
    });

  addLogFlags(
    program
      .command('status')
      .description(
        'show each managed target (in a cluster, or Secret manifests on disk with --manifests) with its role, expiration, time left, last refresh and verdict; exit 1 when any is expired or unmanaged',
      ),
  )
    .option('--manifests <dir>', 'show the Secret manifests in DIR instead of the Secrets in a cluster')
    .option('--target <namespace/name>', 'a Secret to show in the cluster (repeatable; default: discovered from CredentialsRequests)', collect)
    .option('--kubeconfig <file>', 'kubeconfig to use (default: in-cluster, then KUBECONFIG, then ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context to use')
    .option('--renew-before <duration>', 'count a target as due when less than this is left, as refresh does')
    .option('--cert <file>', 'client certificate whose expiry to show, PEM (env CAP_CERT_FILE)')
    .option('--pkcs12 <file>', 'or the PKCS#12 bundle holding it (env CAP_PKCS12_FILE)')
    .option('--pkcs12-passphrase-file <file>', 'file holding the passphrase of --pkcs12 (env CAP_PKCS12_PASSPHRASE_FILE)')
    .option('--certs-dir <dir>', 'or a folder laid out as the certs Secret, as refresh reads it: tls.crt, or client.p12 and passphrase (env CAP_CERTS_DIR)')
    .addOption(outputOption())
    .action(async (opts) => {
      const { status } = await import('../commands/status.js');
      setExitCode(await status(opts, ctx));
    });

  addLogFlags(
    addCapFlags(
      program
        .command('preflight')
        .description(
          "before a minor upgrade: compare the next release's AWS CredentialsRequests with today's, say what blocks the upgrade and write what it needs",
        ),
    ),
    'warn',
  )
    .requiredOption('--to <path>', "the next release's requests: file, folder or - (oc adm release extract --credentials-requests --included --to=DIR)")
    .option('--from <path>', "the current release's requests (offline comparison)")
    .option('--manifests <dir>', 'the Secret and RBAC manifests generate wrote (offline comparison)')
    .option('--kubeconfig <file>', 'cluster to compare with (default: in-cluster, then KUBECONFIG, then ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context to use')
    .option('--probe-cap', 'ask CAP once for each role of a new or changed request (CAP settings as for refresh); nothing is written')
    .option('--apply', 'in a cluster: set cloudcredential.openshift.io/upgradeable-to to --to-version when nothing blocks (never lowers it)')
    .option('--out <dir>', 'write the Secrets, RBAC, IAM policies and update-roles.sh the upgrade needs here')
    .option('--policies-updated', 'the updated IAM policies have been applied (iam/update-roles.sh)')
    .option('--to-version <major.minor>', 'the minor version being upgraded to, for the upgradeable-to annotation')
    .option('--role-map <file>', 'roles of new Secrets: YAML of "namespace/name: role" lines')
    .option('--role-template <template>', 'roles of new Secrets over {cluster}, {namespace}, {name} (default: {cluster}-{namespace}-{name})')
    .option('--cluster-name <name>', 'the {cluster} of the role template (default: CLUSTER_NAME)')
    .addOption(new Option('--partition <partition>', 'AWS partition of the IAM script').choices(['aws-iso', 'aws-iso-b']).default('aws-iso'))
    .option('--permissions-boundary <arn>', 'managed policy ARN (of --partition) that update-roles.sh gives every role as its permissions boundary')
    .option('--role-path <path>', 'IAM path of the roles update-roles.sh creates, such as /openshift/ (default /)')
    .option(
      '--install-config <file>',
      "the cluster's install-config.yaml: leave out the next release's requests whose capabilities (capability.openshift.io/name) it does not enable",
    )
    .option('--include-tech-preview', 'also keep requests of the TechPreviewNoUpgrade feature set')
    .option('--feature-gates <a,b>', 'keep requests behind these feature gates (comma-separated, repeatable)', collect)
    .addOption(outputOption())
    .action(async (opts) => {
      const { preflightCommand } = await import('../commands/preflight.js');
      setExitCode(await preflightCommand(opts, ctx));
    });

  return program;
}

/** Runs the CLI and maps every error to its exit code: the one place that decides how the process ends. */
export async function runCli(argv: string[], ctx: CommandContext): Promise<number> {
  let exitCode = 0;
  const program = buildProgram(ctx, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return err.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    // A message keeps its own lines (a list of problems), but nothing it quotes can move the
    // cursor or rewrite a line (CR, ESC): escapeControlLines. Values that may hold LF are
    // escaped where the message is made.
    const message = escapeControlLines(ctx.redactor.redact(errorMessage(err)));
    const status = exitStatusOf(err);
    ctx.stderr(status === undefined ? `error: unexpected failure: ${message}\n` : `error: ${message}\n`);
    return status ?? EXIT_INTERNAL;
  }
}
