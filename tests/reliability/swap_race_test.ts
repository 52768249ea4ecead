// A hostile user who can write the output directory races symlink swaps
// (renameat2 RENAME_EXCHANGE in a loop) while a root daemon starts, fails,
// reloads and stops, and while root runs `logs`: no file outside our own is
// created, written or shown.

import assert from "node:assert/strict";
import { Sandbox } from "../_helpers.ts";
import { figure } from "./_seed.ts";

const CYCLES = Number(Deno.env.get("RELIABILITY_SWAP_CYCLES") ?? "48");
const NOBODY = 65534;

// Swaps a symlink in for each name, briefly and at random moments, in a
// loop until killed: the file is in place most of the time (so starts get
// through) and gone at moments no opener can predict.
const SWAPPER = String.raw`
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/syscall.h>
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif
static int dir;
static int swap(const char *a, const char *b) {
  return syscall(SYS_renameat2, dir, a, dir, b, RENAME_EXCHANGE) == 0;
}
int main(int argc, char **argv) {
  dir = open(argv[1], O_RDONLY | O_DIRECTORY);
  if (dir < 0) return 2;
  srand(getpid());
  for (;;) {
    for (int i = 2; i + 1 < argc; i += 2) {
      if (!swap(argv[i], argv[i + 1])) return 3;
      usleep(rand() % 400);
      if (!swap(argv[i], argv[i + 1])) return 3;
      usleep(rand() % 600);
    }
  }
}
`;

function tool(name: string): boolean {
  try {
    return new Deno.Command("sh", { args: ["-c", `command -v ${name}`], stdout: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/** Why the race cannot run here, or null when it can. */
function missing(): string | null {
  if (Deno.build.os !== "linux") return "needs Linux (renameat2)";
  if (Deno.uid() !== 0) {
    return "needs root to run the daemon as root and the swapper as another user";
  }
  if (!tool("gcc")) return "needs gcc to build the swapper; .ci/run installs it";
  if (!tool("setpriv")) return "needs setpriv (util-linux) to run the swapper as another user";
  return null;
}
const why = missing();

Deno.test({
  name:
    `${CYCLES} starts, failed starts, reloads, stops and logs as root while nobody swaps the outputs with symlinks: nothing outside is created, written or shown${
      why === null ? "" : ` (ignored: ${why})`
    }`,
  ignore: why !== null,
  async fn() {
    await using sb = new Sandbox();
    Deno.chmodSync(sb.dir, 0o711); // nobody may pass through, not look
    // The victims: a root-only file whose bytes and mtime must stay, and a
    // path that must never come to exist.
    const secret = sb.path("secret");
    const content = "TOP-SECRET-" + crypto.randomUUID() + "\n";
    Deno.writeTextFileSync(secret, content, { mode: 0o600 });
    Deno.chmodSync(secret, 0o600);
    const before = Deno.statSync(secret);
    const planted = sb.path("planted");

    // The output directory: root's, writable by nobody's group (which the
    // library accepts: it is not writable by everyone).
    const out = sb.path("out");
    Deno.mkdirSync(out);
    Deno.chownSync(out, 0, NOBODY);
    Deno.chmodSync(out, 0o770);
    Deno.writeTextFileSync(`${out}/app.log`, "");
    Deno.writeTextFileSync(`${out}/out.log`, "");
    Deno.symlinkSync(secret, `${out}/to-secret`);
    Deno.symlinkSync(planted, `${out}/to-planted`);
    Deno.symlinkSync(secret, `${out}/to-secret-2`);
    Deno.symlinkSync(planted, `${out}/to-planted-2`);

    Deno.writeTextFileSync(sb.path("swap.c"), SWAPPER);
    const cc = new Deno.Command("gcc", {
      args: ["-O2", "-o", sb.path("swap"), sb.path("swap.c")],
      stderr: "piped",
    }).outputSync();
    assert.ok(cc.success, new TextDecoder().decode(cc.stderr));
    const swapper = new Deno.Command("setpriv", {
      args: [
        `--reuid=${NOBODY}`,
        `--regid=${NOBODY}`,
        "--clear-groups",
        sb.path("swap"),
        out,
        "app.log",
        "to-secret",
        "out.log",
        "to-planted",
        "app.log",
        "to-planted-2",
        "out.log",
        "to-secret-2",
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
    sb.extraPids.push(swapper.pid);

    const o = {
      behavior: "raw",
      options: { logFile: `${out}/app.log`, stdout: `${out}/out.log`, readyTimeout: 5000 },
    };
    const shown: string[] = [];
    const tally = { started: 0, failedAsAsked: 0, refused: 0, reloaded: 0, logs: 0 };
    // Counted per cycle (and undone), so a failure says how often.
    const harm = { planted: 0, written: 0 };
    let swapping = true;
    swapper.status.then(() => swapping = false);
    try {
      for (let i = 0; i < CYCLES; i++) {
        assert.ok(swapping, "the swapper is still swapping");
        // Every third start fails after writing to stderr: its error shows
        // the tail of the output file.
        const failing = i % 3 === 2;
        const start = await sb.run(
          ["start"],
          failing ? { ...o, env: { FIXTURE_CHILD_THROWS: "1" } } : o,
        );
        shown.push(start.stdout, start.stderr);
        if (start.code === 0) {
          tally.started++;
          const reload = await sb.run(["reload"], o);
          shown.push(reload.stdout, reload.stderr);
          if (reload.code === 0) tally.reloaded++;
          const stop = await sb.run(["stop"], o);
          assert.equal(stop.code, 0, stop.stderr);
        } else if (failing && /module-level failure/.test(start.stderr)) {
          tally.failedAsAsked++;
        } else {
          tally.refused++; // it saw a symlink, or a file that kept changing
        }
        const logs = await sb.run(["logs", "-n", "5"], o);
        shown.push(logs.stdout, logs.stderr);
        if (logs.code === 0) tally.logs++;
        if (sb.exists("planted")) {
          harm.planted++;
          Deno.removeSync(planted);
        }
        if (Deno.readTextFileSync(secret) !== content) {
          harm.written++;
          Deno.writeTextFileSync(secret, content);
        }
      }
    } finally {
      swapper.kill("SIGKILL");
      await swapper.status;
    }
    const leaked = shown.filter((text) => text.includes("TOP-SECRET")).length;
    figure("swap_race", { ...tally, ...harm, leaked });
    assert.deepEqual({ ...harm, leaked }, { planted: 0, written: 0, leaked: 0 });
    assert.equal(Deno.statSync(secret).mtime?.getTime(), before.mtime?.getTime());
    // The race was on: some starts went through it, some saw a symlink.
    assert.ok(tally.started + tally.failedAsAsked > 0, JSON.stringify(tally));
  },
});
