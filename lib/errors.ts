/**
 * The one error type of `@daemonize/daemon`.
 *
 * Every failure the library reports, bad input and API misuse included, is a
 * {@linkcode DaemonError} with a stable {@linkcode DaemonErrorCode}, so the
 * command line can print one clean line and programs can branch on `code`.
 *
 * @module
 */

/**
 * The stable codes a {@linkcode DaemonError} carries.
 *
 * @example
 * ```ts
 * import type { DaemonErrorCode } from "@daemonize/daemon";
 *
 * const retryable: DaemonErrorCode[] = ["READY_TIMEOUT", "STOP_TIMEOUT"];
 * ```
 */
export type DaemonErrorCode =
  | "ALREADY_RUNNING"
  | "NOT_RUNNING"
  | "START_FAILED"
  | "READY_TIMEOUT"
  | "STOP_TIMEOUT"
  | "RELOAD_FAILED"
  | "BAD_PIDFILE"
  | "BAD_OPTION"
  | "PERMISSION"
  | "UNSUPPORTED";

/**
 * An error of `@daemonize/daemon`. The message names the file, option or pid
 * involved and says what to do; `code` is what programs should test. A
 * command run with `--json` prints it as one object on stdout,
 * `{ "name": …, "error": { "code": …, "message": … } }`, with the exit code
 * it has without `--json`.
 *
 * @example Branch on the code
 * ```ts
 * import { DaemonError } from "@daemonize/daemon";
 *
 * const err = new DaemonError("BAD_OPTION", 'option "umask" must be 0..0o777');
 * if (err instanceof DaemonError && err.code === "BAD_OPTION") {
 *   console.error(err.message);
 * }
 * ```
 */
export class DaemonError extends Error {
  /** Always `"DaemonError"`. */
  override readonly name = "DaemonError";
  /** What went wrong, as a stable code. */
  readonly code: DaemonErrorCode;

  /**
   * Creates an error with a code and a message for a person.
   *
   * @param code What went wrong.
   * @param message A sentence naming the file, option or pid, and what to do.
   * @param options `cause`, when another error is behind this one.
   */
  constructor(code: DaemonErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}
