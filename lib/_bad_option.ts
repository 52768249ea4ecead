// The error every option check throws: BAD_OPTION, naming the option.

import { DaemonError } from "./errors.ts";

/** `option "<option>" <what>`, as a `BAD_OPTION` error. */
export function badOption(option: string, what: string): DaemonError {
  return new DaemonError("BAD_OPTION", `option "${option}" ${what}`);
}
