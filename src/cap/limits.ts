/**
 * The largest CAP answer read: a credentials answer is well under 4 KiB, so anything past
 * 64 KiB is not one (an HTML error page, a proxy's, or something hostile), and reading it
 * whole would only cost memory. The client stops reading a response there, and `fill` its
 * standard input (which is a CAP answer piped in).
 */
export const MAX_CAP_RESPONSE_BYTES = 64 * 1024;
