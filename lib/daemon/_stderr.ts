// The daemon's raw stderr (the log file by default, through the keeper's
// copier): where it says what cannot go through logging.

const encoder = new TextEncoder();

/** Writes `text` to raw stderr; says nothing when nobody can hear it. */
export function writeStderr(text: string): void {
  try {
    Deno.stderr.writeSync(encoder.encode(text));
  } catch { /* nowhere left to say it */ }
}
