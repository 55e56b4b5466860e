import { mkdtempSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.js';
import { loadKubeConfig } from './load-kube-config.js';

// Created at load: the tables below name files in it.
const dir = mkdtempSync(join(tmpdir(), 'ctr-kubeconfig-'));
const saDir = join(dir, 'serviceaccount');
const noSa = () => join(dir, 'no-service-account');

function kubeconfig(name: string, server: string, extra: { currentContext?: string | null; caFile?: string } = {}) {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server, ...(extra.caFile ? { 'certificate-authority': extra.caFile } : {}) } }],
    users: [{ name, user: { token: `token-${name}` } }],
    contexts: [{ name, context: { cluster: name, user: name } }],
    ...(extra.currentContext === null ? {} : { 'current-context': extra.currentContext ?? name }),
  });
}

beforeAll(async () => {
  await writeFile(join(dir, 'one'), kubeconfig('one', 'https://one.example:6443'));
  await writeFile(join(dir, 'two'), kubeconfig('two', 'https://two.example:6443'));
  await writeFile(join(dir, 'no-current'), kubeconfig('three', 'https://three.example:6443', { currentContext: null }));
  await writeFile(join(dir, 'missing-ca'), kubeconfig('four', 'https://four.example:6443', { caFile: 'ca-that-is-not-there.crt' }));
  await writeFile(join(dir, 'not-a-kubeconfig'), 'just a string\n');
  await mkdir(saDir);
  await writeFile(join(saDir, 'token'), 'sa-token');
  await writeFile(join(saDir, 'ca.crt'), 'ca');
  await writeFile(join(saDir, 'namespace'), 'cap-token-refresh\n');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('loadKubeConfig', () => {
  it.each([
    ['--kubeconfig wins over the service account', { kubeconfig: 'one' }, { KUBECONFIG: join(dir, 'two') }, true, 'https://one.example:6443'],
    [
      'the service account wins over KUBECONFIG',
      {},
      { KUBECONFIG: join(dir, 'two'), KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' },
      true,
      'https://10.0.0.1:443',
    ],
    ['an IPv6 service host is bracketed', {}, { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, true, 'https://[fd00::1]:443'],
    [
      '--context leaves the service account for the kubeconfig',
      { context: 'two' },
      { KUBECONFIG: [join(dir, 'one'), join(dir, 'two')].join(delimiter), KUBERNETES_SERVICE_HOST: 'h', KUBERNETES_SERVICE_PORT: '1' },
      true,
      'https://two.example:6443',
    ],
    [
      'KUBECONFIG files merge, the first current-context wins, missing files are skipped',
      {},
      { KUBECONFIG: [join(dir, 'gone'), join(dir, 'one'), join(dir, 'two')].join(delimiter) },
      false,
      'https://one.example:6443',
    ],
    ['~/.kube/config last', {}, { HOME: join(dir, 'home') }, false, 'https://two.example:6443'],
  ])('%s', async (_, choice, env, inPod, server) => {
    await mkdir(join(dir, 'home', '.kube'), { recursive: true });
    await writeFile(join(dir, 'home', '.kube', 'config'), kubeconfig('two', 'https://two.example:6443'));
    const loaded = loadKubeConfig(choice, { env, cwd: dir, serviceAccountDir: inPod ? saDir : noSa() });
    expect(loaded.server).toBe(server);
  });

  it('the in-cluster config reads the token and CA files and the namespace', () => {
    const loaded = loadKubeConfig({}, { env: { KUBERNETES_SERVICE_HOST: 'h', KUBERNETES_SERVICE_PORT: '6443' }, cwd: dir, serviceAccountDir: saDir });
    expect(loaded.kubeConfig.getCurrentCluster()).toMatchObject({ caFile: join(saDir, 'ca.crt'), skipTLSVerify: false });
    expect(loaded.kubeConfig.getCurrentUser()?.authProvider).toEqual({ name: 'tokenFile', config: { tokenFile: join(saDir, 'token') } });
    expect(loaded.kubeConfig.getContextObject('in-cluster')?.namespace).toBe('cap-token-refresh');
  });

  it.each([
    ['no current-context', { kubeconfig: 'no-current' }, 'sets no current-context; pass --context NAME (one of: three)'],
    ['a CA file that is not there', { kubeconfig: 'missing-ca' }, `is ${join(dir, 'ca-that-is-not-there.crt')}, which does not exist`],
    ['not a kubeconfig', { kubeconfig: 'not-a-kubeconfig' }, 'cannot be used: it is not a kubeconfig'],
    ['KUBECONFIG naming only missing files', {}, `KUBECONFIG names ${join(dir, 'gone')}, and none of them exists`],
  ])('%s is a ConfigError', (_, choice, message) => {
    const load = () => loadKubeConfig(choice, { env: { KUBECONFIG: join(dir, 'gone') }, cwd: dir, serviceAccountDir: noSa() });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(message);
  });
});
