/**
 * Errors the CLI raises itself, coded like the controller's (`MSEG_ERR_CLI_*`). Errors the
 * controller answers with keep the controller's code and message untouched (ApiError), so what
 * the user sees can be searched in the controller's docs and logs.
 */
export const CLI_ERRORS = {
  MSEG_ERR_CLI_USAGE: 'bad command line',
  MSEG_ERR_CLI_NOT_LOGGED_IN: 'not logged in; run `mseg login` first',
  MSEG_ERR_CLI_UNREACHABLE: 'the controller does not answer',
  MSEG_ERR_CLI_BAD_ANSWER: 'the controller answered something that is not the API',
  MSEG_ERR_CLI_FILE: 'cannot read the file',
  MSEG_ERR_CLI_NOT_ROOT: 'this command needs root',
  MSEG_ERR_CLI_START: 'the stack did not start',
  MSEG_ERR_CLI_DOCKER: 'the Docker engine refused a request',
} as const;

export type CliErrorCode = keyof typeof CLI_ERRORS;

export class CliError extends Error {
  constructor(
    readonly code: CliErrorCode,
    message: string = CLI_ERRORS[code],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** An error answer of the controller: `{ error: { code, message, field? } }` as it came. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** The one line printed for a failed command: the code first, as the controller or CLI gave it. */
export function describeError(e: unknown): string {
  if (e instanceof ApiError) return `${e.code}: ${e.message}${e.field ? ` (field ${e.field})` : ''}`;
  if (e instanceof CliError) return `${e.code}: ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}
