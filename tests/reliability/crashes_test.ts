// Crashes at every step: SIGKILL at each point of start and stop, then the
// next start must succeed with nothing left holding the lock and no orphan.

import assert from "node:assert/strict";
import { isAlive, processesWith, procState, Sandbox, waitFor } from "../_helpers.ts";
import { figure } from "./_seed.ts";

function environ(pid: number): string[] {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/environ`).split("\0");
  } catch {
    return [];
  }
}

/** The sandbox's process that stopped itself at a fault point (state T). */
function stoppedProcess(sb: Sandbox, daemon: boolean): number | undefined {
  return processesWith(sb.marker).find((pid) =>
    procState(pid) === "T" && environ(pid).some((e) => e.startsWith("DAEMONIZE_LAUNCH=")) === daemon
  );
}

async function assertRecovers(sb: Sandbox): Promise<void> {
  const pid = await sb.start();
  await waitFor("only the new daemon left", () => {
    const left = processesWith(sb.marker);
    return left.length === 1 && left[0] === pid;
  });
  assert.equal(Deno.readTextFileSync(sb.pidFile), `${pid}\n`);
  assert.equal((await sb.run(["stop"])).code, 0);
  assert.deepEqual(processesWith(sb.marker), []);
}

for (const point of ["daemon-before-lock", "daemon-after-lock", "daemon-before-ready"]) {
  Deno.test(`SIGKILL the daemon at ${point}: start fails cleanly and the next start succeeds`, async () => {
    await using sb = new Sandbox();
    const launcher = sb.command(["start"], { env: { FIXTURE_FAULT: point } }).spawn();
    const victim = await waitFor(`a daemon stopped at ${point}`, () => stoppedProcess(sb, true));
    Deno.kill(victim, "SIGKILL");
    const out = await launcher.output();
    assert.equal(out.code, 1, new TextDecoder().decode(out.stdout));
    assert.match(new TextDecoder().decode(out.stderr), /was killed by SIGKILL before it was ready/);
    assert.equal(isAlive(victim), false);
    const status = await sb.run(["status"]);
    assert.ok([1, 3].includes(status.code), `not running afterwards: ${status.stdout}`);
    await assertRecovers(sb);
    figure(`crash.${point}`, "start exit 1, next start ok");
  });
}

Deno.test("SIGKILL the launcher after it spawned: the daemon still comes up, alone, named by its pidfile", async () => {
  await using sb = new Sandbox();
  const launcher = sb.command(["start"], { env: { FIXTURE_FAULT: "launcher-after-spawn" } })
    .spawn();
  const stopped = await waitFor(
    "the launcher stopped after spawning",
    () => stoppedProcess(sb, false),
  );
  assert.equal(stopped, launcher.pid);
  Deno.kill(launcher.pid, "SIGKILL");
  await launcher.status;
  const status = await waitFor("the daemon to be up", async () => {
    const out = await sb.run(["status", "--json"]);
    return out.code === 0 && JSON.parse(out.stdout);
  });
  assert.ok(isAlive(status.pid));
  assert.deepEqual(processesWith(sb.marker), [status.pid]);
  const again = await sb.run(["start"]);
  assert.equal(again.stdout.trim(), `already running (pid ${status.pid})`);
  assert.equal((await sb.run(["stop"])).code, 0);
  await assertRecovers(sb);
  figure("crash.launcher-after-spawn", "daemon up and alone");
});

Deno.test("SIGKILL the daemon during main: status says dead, the next start succeeds", async () => {
  await using sb = new Sandbox();
  const pid = await sb.start();
  Deno.kill(pid, "SIGKILL");
  await waitFor("the daemon to die", () => !isAlive(pid));
  assert.equal((await sb.run(["status"])).code, 1);
  await assertRecovers(sb);
});

Deno.test("SIGKILL the daemon while it is stopping: stop still returns and removes the pidfile", async () => {
  await using sb = new Sandbox();
  const o = { behavior: "slow-stop" };
  const pid = await sb.start(o);
  const stop = sb.command(["stop"], o).output();
  await waitFor("the daemon to be stopping", () => sb.readLog().includes("stopping slowly"));
  Deno.kill(pid, "SIGKILL");
  const out = await stop;
  assert.equal(out.code, 0);
  assert.equal(sb.exists("app.pid"), false, "stop removed the pidfile the killed daemon left");
  await assertRecovers(sb);
});

Deno.test("SIGKILL the stop command after it signalled: the daemon still exits cleanly", async () => {
  await using sb = new Sandbox();
  const pid = await sb.start();
  const stop = sb.command(["stop"], { env: { FIXTURE_FAULT: "stop-after-signal" } }).spawn();
  await waitFor("stop to pause after signalling", () => procState(stop.pid) === "T");
  Deno.kill(stop.pid, "SIGKILL");
  await stop.status;
  await waitFor("the daemon to exit", () => !isAlive(pid));
  assert.equal(sb.exists("app.pid"), false);
  assert.match(sb.readLog(), /exiting: stopped by SIGTERM \(exit code 0\)/);
  await assertRecovers(sb);
});
