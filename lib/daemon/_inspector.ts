// SIGUSR1 in a Deno process opens the V8 inspector on 127.0.0.1:9229 with no
// authentication (Deno >= 2.9.2, like Node), a few milliseconds after the
// signal; no flag or setting turns that off. A started daemon runs with
// SIGUSR1 blocked where the keeper can arrange it (GNU env), so the signal
// is never delivered and stays pending; elsewhere (and under `run`) the
// daemon's listener closes the inspector as soon as Deno has opened it.

import { poll } from "../_poll.ts";

/** Waits for the inspector a SIGUSR1 opens and closes it; returns whether it did. */
export async function guardInspector(): Promise<boolean> {
  const inspector = await import("node:inspector");
  const opened = await poll(() => inspector.url() !== undefined ? true : undefined, 1000, {
    max: 2,
  });
  if (opened !== true) return false;
  inspector.close();
  return true;
}

let readable = true;

/** Whether a blocked SIGUSR1 is pending (where /proc can be read). */
export function usr1Pending(): boolean {
  if (!readable || Deno.build.os !== "linux") return false;
  let status: string;
  try {
    status = Deno.readTextFileSync("/proc/self/status");
  } catch {
    readable = false;
    return false;
  }
  // SIGUSR1 is signal 10: bit 9 of the pending masks.
  return [...status.matchAll(/^(?:SigPnd|ShdPnd):\s*([0-9a-f]+)$/gm)].some((m) =>
    (BigInt("0x" + m[1]) & 0x200n) !== 0n
  );
}
