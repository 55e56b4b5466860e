// What one CAP request asks for, and the settings a CAP_URL template may name (docs/DESIGN.md,
// "Talking to CAP"). The engine groups due targets by it; the CAP client fills its URL from it.

export interface CapQuery {
  agency: string;
  mission: string;
  role: string;
  /** The SC2S account name; only a CAP_URL template with `{account}` uses it. */
  account?: string;
}

/** The values a CAP_URL template may name; `{role}` always has one (the target's role). */
export const PLACEHOLDERS = ['agency', 'mission', 'account', 'role'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

/** Where each placeholder's value comes from, as a configuration error names it. */
export const PLACEHOLDER_SETTINGS: Record<Placeholder, string> = {
  agency: 'AGENCY, --agency or annotation cap-token-refresh/agency',
  mission: 'MISSION, --mission or annotation cap-token-refresh/mission',
  account: 'CAP_ACCOUNT, --account or annotation cap-token-refresh/account',
  role: '--role or annotation cap-token-refresh/role',
};
