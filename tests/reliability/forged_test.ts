// PID reuse and forged pidfiles: stop and status never signal anything the
// lock does not vouch for, and say what they found.

import assert from "node:assert/strict";
import { Daemon, DaemonError } from "../../mod.ts";
import { isAlive, Sandbox } from "../_helpers.ts";
import { figure } from "./_seed.ts";

function stranger(sb: Sandbox): Deno.ChildProcess {
  const child = new Deno.Command("sleep", { args: ["60"] }).spawn();
  sb.extraPids.push(child.pid);
  return child;
}

Deno.test("stale forged pidfiles (no daemon): stop signals nobody and removes them; status says dead", async () => {
  await using sb = new Sandbox();
  const live = stranger(sb);
  const contents = [
    `${live.pid}\n`,
    "1\n",
    `${Deno.pid}\n`,
    "-5\n",
    "99999999999\n",
    "garbage\n",
    "",
    `${live.pid}\njunk`,
  ];
  for (const content of contents) {
    Deno.writeTextFileSync(sb.pidFile, content);
    const status = await sb.run(["status"]);
    assert.equal(status.code, 1, JSON.stringify(content));
    assert.match(status.stdout, /not running, but its pidfile .* remains/);
    const stop = await sb.run(["stop"]);
    assert.equal(stop.code, 0);
    assert.match(stop.stdout, /not running \(removed stale pidfile/);
    assert.equal(sb.exists("app.pid"), false);
    assert.ok(isAlive(live.pid), "the unrelated process was not signalled");
  }
  live.kill("SIGKILL");
  await live.status;
  figure("forged.stale_cases", contents.length);
});

Deno.test("forged content in a held pidfile: stop refuses to signal, status hides the pid, daemon unharmed", async () => {
  await using sb = new Sandbox();
  const live = stranger(sb);
  const daemon = await sb.start();
  const cases: [string, RegExp][] = [
    [`${live.pid}\n`, /names pid \d+, which does not hold its lock; refusing to signal it/],
    ["1\n", /names pid 1, which (is init|does not hold its lock)/],
    [`${Deno.pid}\n`, /which (is the process that ran this command|does not hold its lock)/],
    ["-5\n", /locked but holds no valid pid/],
    ["99999999999\n", /locked but holds no valid pid/],
    ["garbage\n", /locked but holds no valid pid/],
    ["", /locked but holds no valid pid/],
    [`${live.pid}\njunk`, /locked but holds no valid pid/],
  ];
  for (const [content, why] of cases) {
    Deno.writeTextFileSync(sb.pidFile, content);
    const stop = await sb.run(["stop"]);
    assert.equal(stop.code, 1, JSON.stringify(content));
    assert.match(stop.stderr, why);
    assert.ok(isAlive(live.pid) && isAlive(daemon), "nobody was signalled");
    const status = await sb.run(["status", "--json"]);
    assert.equal(status.code, 0, "the lock is held: running");
    const pid = JSON.parse(status.stdout).pid;
    assert.ok(
      pid === null || pid === daemon,
      `status never reports a pid the lock does not vouch for: ${pid}`,
    );
  }
  Deno.writeTextFileSync(sb.pidFile, `${daemon}\n`);
  assert.equal((await sb.run(["stop"])).code, 0);
  live.kill("SIGKILL");
  await live.status;
  figure("forged.held_cases", cases.length);
});

Deno.test("a held pidfile naming the caller itself is refused by the controller", async () => {
  await using sb = new Sandbox();
  const daemon = await sb.start();
  Deno.writeTextFileSync(sb.pidFile, `${Deno.pid}\n`);
  const app = new Daemon({
    module: new URL("../fixtures/app.ts", import.meta.url),
    pidFile: sb.pidFile,
  });
  await assert.rejects(
    app.stop(),
    (e: unknown) =>
      e instanceof DaemonError && e.code === "BAD_PIDFILE" && /this very process/.test(e.message),
  );
  assert.ok(isAlive(daemon));
  Deno.writeTextFileSync(sb.pidFile, `${daemon}\n`);
  assert.equal((await app.stop()).stoppedPid, daemon);
});

// Without --allow-all Deno cannot read /proc; stop once trusted a pid that
// stayed the same 5 ms apart and sent a forged stranger SIGTERM, then SIGKILL.
for (
  const [label, run] of [
    ["--allow-run", "--allow-run"],
    ["--allow-run=/bin/sh,<deno>", `--allow-run=/bin/sh,${Deno.execPath()}`],
  ]
) {
  Deno.test(`without --allow-all (${label}): a stranger forged into a held pidfile is never signalled`, async () => {
    await using sb = new Sandbox();
    const live = stranger(sb);
    const daemon = await sb.start();
    const denoFlags = ["--allow-env", `--allow-read=${sb.dir}`, `--allow-write=${sb.dir}`, run];
    Deno.writeTextFileSync(sb.pidFile, `${live.pid}\n`);
    for (const command of ["stop", "reload", "restart"]) {
      const out = await sb.run([command], { denoFlags });
      assert.equal(out.code, 1, `${command}: ${out.stdout}`);
      assert.match(out.stderr, /which does not hold its lock; refusing to signal it/, command);
    }
    const status = await sb.run(["status", "--json"], { denoFlags });
    assert.equal(status.code, 0);
    assert.equal(JSON.parse(status.stdout).pid, null, "status does not repeat the forged pid");
    assert.ok(isAlive(live.pid), "the stranger was not signalled");
    assert.ok(isAlive(daemon), "nor was the daemon");
    Deno.writeTextFileSync(sb.pidFile, `${daemon}\n`);
    const stop = await sb.run(["stop"], { denoFlags });
    assert.equal(stop.code, 0, stop.stderr);
    assert.ok(!isAlive(daemon), "the real daemon is stopped through the same proof");
    live.kill("SIGKILL");
    await live.status;
  });
}
