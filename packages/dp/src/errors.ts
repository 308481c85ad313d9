/**
 * The data plane's coded errors, one registry (fastify's errors.js idea): callers and tests match
 * `.code`, which stays stable when messages change. Per-packet problems are never errors: they are
 * counted (decode/packet.ts Malformed); these are for files, frames and options.
 */
export const DP_ERROR_CODES = {
  MSEG_ERR_DP_CAPTURE_FILE: 'not a readable pcap or pcapng file',
  MSEG_ERR_DP_POLICY_FILE: 'policy file is not valid YAML/JSON or fails the schema',
  MSEG_ERR_DP_FRAME: 'control socket frame over the size limit',
} as const;

export type DpErrorCode = keyof typeof DP_ERROR_CODES;

export class DpError extends Error {
  constructor(
    readonly code: DpErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DpError';
  }
}
