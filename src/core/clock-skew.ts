// Clock skew between this node and CAP (docs/DESIGN.md, "Clocks"): measured from CAP's Date
// header on every call; above 60 s it is reported (log, a Warning Event on each Secret written in
// a cluster, the clock-offset annotation that `status` shows), above 5 min with the warning that
// AWS refuses what this node signs.

export const SKEW_WARN_MS = 60_000;
export const SKEW_SIGV4_MS = 5 * 60_000;

/** The offset (CAP's clock minus this node's) worth reporting, in whole seconds; undefined within 60 s. */
export function reportableSkewSeconds(offsetMs: number | undefined): number | undefined {
  if (offsetMs === undefined || Math.abs(offsetMs) <= SKEW_WARN_MS) return undefined;
  return Math.round(offsetMs / 1000);
}

/** "behind CAP's by 90s" / "ahead of CAP's by 600s", for an offset of CAP's clock minus the node's. */
export function skewDirection(offsetSeconds: number): string {
  const s = Math.abs(offsetSeconds);
  return offsetSeconds > 0 ? `behind CAP's by ${s}s` : `ahead of CAP's by ${s}s`;
}

/** Whether AWS refuses SigV4 requests signed with this offset. */
export function awsRefuses(offsetSeconds: number): boolean {
  return Math.abs(offsetSeconds) * 1000 > SKEW_SIGV4_MS;
}

/** A warning for a clock offset (CAP minus local) over 60 seconds; undefined when it is smaller. */
export function describeClockSkew(offsetMs: number): string | undefined {
  const s = reportableSkewSeconds(offsetMs);
  if (s === undefined) return undefined;
  const refuse = awsRefuses(s) ? '; AWS will refuse requests signed on this node (SigV4 allows 5 minutes of skew)' : '';
  return `this node's clock is ${skewDirection(s)}${refuse}; fix its time source (NTP/chrony); expirations and refresh times follow CAP's clock`;
}

/** The Warning Event's message on a Secret written with a skewed clock: offset and way, never a value. */
export function describeSkewEvent(offsetSeconds: number, role: string): string {
  const refuse = awsRefuses(offsetSeconds) ? '; AWS will refuse requests signed on this node (SigV4 allows 5 minutes of skew)' : '';
  return `The clock of the node that refreshed the credentials for role ${role} is ${skewDirection(offsetSeconds)}${refuse}; fix its time source (NTP/chrony). The expiration and refreshed-at annotations follow CAP's clock`;
}

/** The clock-offset annotation's value: a whole number of seconds, or undefined when absent or not one. */
export function parseClockOffset(value: string | undefined): number | undefined {
  if (value === undefined || !/^[+-]?\d{1,9}$/.test(value.trim())) return undefined;
  return Number(value.trim());
}
