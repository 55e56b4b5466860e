import { describe, expect, it } from 'vitest';
import { compareReleases } from './compare-releases.js';
import type { AwsCredentialsRequest } from './credentials-requests.js';
import { planPreflight, renderPreflightTable } from './preflight-plan.js';

const request = (name: string, namespace: string, actions: string[], condition?: Record<string, Record<string, unknown>>): AwsCredentialsRequest => ({
  source: 'test',
  name,
  annotations: {},
  secretRef: { namespace, name: `${name}-creds` },
  statementEntries: [{ effect: 'Allow', action: actions, resource: '*', ...(condition ? { policyCondition: condition } : {}) }],
});
const settings = { policiesUpdated: false, rolesForNew: new Map([['ns-b/b-creds', 'role-b']]) };

describe('planPreflight', () => {
  it('a changed condition blocks until the policies are updated; removed actions only inform', () => {
    const current = [request('a', 'ns-a', ['x:One', 'x:Two'], { Bool: { k: true } })];
    const next = [request('a', 'ns-a', ['x:One'], { Bool: { k: false } })];
    const state = { secrets: new Map([['ns-a/a-creds', { role: 'role-a' }]]), granted: new Set(['ns-a/a-creds']) };
    const blocked = planPreflight(compareReleases(current, next), state, settings);
    expect(blocked.requests[0]).toMatchObject({ change: 'changed', role: 'role-a', conditionChanged: ['x:One'], removed: ['x:Two'], blocker: true });
    expect(blocked.blockers).toBe(1);
    const updated = planPreflight(compareReleases(current, next), state, { ...settings, policiesUpdated: true });
    expect(updated.blockers).toBe(0);
    expect(updated.requests[0]?.action).toBe('role role-a may drop 1 permission(s)');
  });

  it('a namespace that does not exist blocks, whatever else holds', () => {
    const next = [request('b', 'ns-b', ['x:One'])];
    const state = { secrets: new Map(), granted: new Set<string>(), namespaces: new Set(['ns-a']) };
    const report = planPreflight(compareReleases([], next), state, settings);
    expect(report.requests[0]).toMatchObject({ change: 'namespace-missing', role: 'role-b', blocker: true });
    expect(report.requests[0]?.action).toContain('create namespace ns-b');
    expect(renderPreflightTable(report)).toContain('namespace-missing (blocker)');
  });

  it('a Secret without a role annotation is named as such', () => {
    const next = [request('b', 'ns-b', ['x:One'])];
    const state = { secrets: new Map([['ns-b/b-creds', { role: undefined }]]), granted: new Set(['ns-b/b-creds']) };
    const report = planPreflight(compareReleases([], next), state, settings);
    expect(report.requests[0]?.action).toBe('annotate Secret ns-b/b-creds with cap-token-refresh/role');
  });
});
