// A daemon that SIGKILL cannot end: frozen by the cgroup v1 freezer (what
// `docker pause` does), it sleeps in the kernel (state D) and keeps its
// lock past SIGKILL until thawed. stop then fails with STOP_TIMEOUT, and
// the Daemon controller's caller, and the command, exit at once after it:
// nothing of the library is left pending.

import assert from "node:assert/strict";
import { isAlive, procState, Sandbox, waitFor } from "../_helpers.ts";
import { figure } from "./_seed.ts";

const FREEZER = "/sys/fs/cgroup/freezer";
const MOD = new URL("../../mod.ts", import.meta.url).href;
const FIXTURE = new URL("../fixtures/app.ts", import.meta.url).href;

/** Why the cgroup v1 freezer cannot be used here, or null when it can. */
function noFreezer(): string | null {
  if (Deno.build.os !== "linux") return "needs Linux";
  if (Deno.uid() !== 0) return "needs root to make a cgroup";
  try {
    const probe = `${FREEZER}/daemonize-probe-${Deno.pid}`;
    Deno.mkdirSync(probe);
    Deno.removeSync(probe);
    return null;
  } catch {
    // cgroup v2 only: its frozen tasks die of SIGKILL, so nothing to test.
    return `no cgroup v1 freezer at ${FREEZER}`;
  }
}
const why = noFreezer();

Deno.test({
  name:
    "a daemon frozen in the kernel (cgroup freezer) keeps its lock past SIGKILL: stop fails with STOP_TIMEOUT, and the controller's caller and the command exit at once after it" +
    (why === null ? "" : ` (ignored: ${why})`),
  ignore: why !== null,
  async fn() {
    await using sb = new Sandbox();
    const pid = await sb.start();
    const group = `${FREEZER}/daemonize-test-${Deno.pid}-${pid}`;
    Deno.mkdirSync(group);
    try {
      Deno.writeTextFileSync(`${group}/cgroup.procs`, String(pid));
      Deno.writeTextFileSync(`${group}/freezer.state`, "FROZEN");
      await waitFor(
        "the daemon to be frozen",
        () => Deno.readTextFileSync(`${group}/freezer.state`).trim() === "FROZEN",
      );
      assert.equal(procState(pid), "D");

      const script = sb.path("caller.ts");
      Deno.writeTextFileSync(
        script,
        `import { Daemon } from ${JSON.stringify(MOD)};
const app = new Daemon({ module: ${JSON.stringify(FIXTURE)}, pidFile: ${
          JSON.stringify(sb.pidFile)
        }, logFile: ${JSON.stringify(sb.logFile)}, env: { FIXTURE_DIR: ${
          JSON.stringify(sb.dir)
        } }, stopTimeout: 300, readyTimeout: 10000 });
console.log(await app.stop().then(() => "stopped", (e) => e.code));
console.log("settled", Date.now());
`,
      );
      const t0 = performance.now();
      const controller = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", script],
        cwd: sb.dir,
        env: sb.envMarker(),
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      sb.extraPids.push(controller.pid);
      const command = sb.command(["stop", "--json"], { options: { stopTimeout: 300 } }).spawn();
      sb.extraPids.push(command.pid);
      let controllerExited = 0;
      let commandExited = 0;
      const controllerOut = controller.output().finally(() => controllerExited = Date.now());
      const commandOut = command.output().finally(() => commandExited = Date.now());
      // Both wait 300 ms, SIGKILL, then 5 s for the lock: a deadline well
      // past that, so that a caller left hanging fails here.
      await waitFor("both stops to end", () => controllerExited > 0 && commandExited > 0, 12_000);
      const tookMs = Math.round(performance.now() - t0);

      const out = new TextDecoder().decode((await controllerOut).stdout).trim().split("\n");
      assert.equal(out[0], "STOP_TIMEOUT", out.join("\n"));
      const lagMs = controllerExited - Number(/^settled (\d+)$/.exec(out[1])?.[1]);
      assert.ok(lagMs < 1000, `the caller exited ${lagMs} ms after stop() rejected`);

      const cli = await commandOut;
      assert.equal(cli.code, 1);
      const error = JSON.parse(new TextDecoder().decode(cli.stdout)).error;
      assert.equal(error.code, "STOP_TIMEOUT");
      assert.match(error.message, /still holds pidFile .* after SIGKILL/);
      assert.ok(isAlive(pid) && procState(pid) === "D", "still frozen, lock held");
      figure("frozen.stop_timeout", { tookMs, callerExitLagMs: lagMs });
    } finally {
      Deno.writeTextFileSync(`${group}/freezer.state`, "THAWED");
      await waitFor("the thawed daemon to die of the pending SIGKILL", () => !isAlive(pid));
      await waitFor("the freezer group to empty", () => {
        try {
          Deno.removeSync(group);
          return true;
        } catch {
          return false;
        }
      });
    }
    const stop = await sb.run(["stop"]);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(sb.exists("app.pid"), false);
  },
});
