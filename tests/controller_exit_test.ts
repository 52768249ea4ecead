// After any Daemon method settles, nothing of the library keeps the
// caller's process alive or blocks it: a deploy script that starts, stops,
// restarts or reloads a daemon exits as soon as its last await is done,
// not readyTimeout or stopTimeout later.

import assert from "node:assert/strict";
import { Sandbox } from "./_helpers.ts";

const MOD = new URL("../mod.ts", import.meta.url).href;
const FIXTURE = new URL("./fixtures/app.ts", import.meta.url).href;
/** How long after its last await the caller may take to exit. */
const LAG_MS = 1000;

/**
 * Runs a caller script whose body uses `app` (a Daemon for the fixture with
 * `behavior` and `options`); resolves with what it printed and how long it
 * took to exit after its last await settled.
 */
async function caller(
  sb: Sandbox,
  behavior: string,
  options: Record<string, unknown>,
  body: string,
): Promise<{ lines: string[]; lagMs: number }> {
  const script = sb.path("caller.ts");
  Deno.writeTextFileSync(
    script,
    `import { Daemon } from ${JSON.stringify(MOD)};
const app = new Daemon({
  module: ${JSON.stringify(FIXTURE)},
  pidFile: ${JSON.stringify(sb.pidFile)},
  logFile: ${JSON.stringify(sb.logFile)},
  env: { FIXTURE_DIR: ${JSON.stringify(sb.dir)}, FIXTURE_BEHAVIOR: ${JSON.stringify(behavior)} },
  ...${JSON.stringify(options)},
});
${body}
console.log("settled", Date.now());
`,
  );
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script],
    cwd: sb.dir,
    env: sb.envMarker(),
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  sb.extraPids.push(child.pid);
  const out = await child.output();
  const exited = Date.now();
  const stdout = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, stdout + new TextDecoder().decode(out.stderr));
  const lines = stdout.trim().split("\n");
  const settled = Number(/^settled (\d+)$/.exec(lines.at(-1) ?? "")?.[1]);
  assert.ok(settled > 0, stdout);
  return { lines: lines.slice(0, -1), lagMs: exited - settled };
}

const LONG = { readyTimeout: 10_000, stopTimeout: 10_000 };

Deno.test("start then stop: the caller's event loop keeps turning, and it exits at once, not readyTimeout (10 s) later", async () => {
  await using sb = new Sandbox();
  const { lines, lagMs } = await caller(
    sb,
    "idle",
    LONG,
    `let last = performance.now();
let gap = 0;
const tick = setInterval(() => {
  const now = performance.now();
  gap = Math.max(gap, now - last);
  last = now;
}, 5);
const started = await app.start();
const stopped = await app.stop();
clearInterval(tick);
console.log(started.pid === stopped.stoppedPid);
console.log(Math.round(gap));`,
  );
  assert.equal(lines[0], "true");
  // A library call that blocks the loop (a busy wait) shows as a gap.
  assert.ok(Number(lines[1]) < 150, `the caller's event loop stood still for ${lines[1]} ms`);
  assert.ok(lagMs < LAG_MS, `the caller exited ${lagMs} ms after its last await`);
});

Deno.test("start, status, reload, restart, stop: the caller exits at once", async () => {
  await using sb = new Sandbox();
  const { lines, lagMs } = await caller(
    sb,
    "idle",
    LONG,
    `await app.start();
console.log((await app.status()).running);
console.log((await app.reload()).reloaded);
const again = await app.restart();
console.log(again.alreadyRunning);
console.log((await app.stop()).stoppedPid === again.pid);`,
  );
  assert.deepEqual(lines, ["true", "true", "false", "true"]);
  assert.ok(lagMs < LAG_MS, `the caller exited ${lagMs} ms after its last await`);
});

Deno.test("a start that fails, and one that times out: the caller exits at once after the rejection", async () => {
  await using sb = new Sandbox();
  const failed = await caller(
    sb,
    "throw-sync",
    LONG,
    `console.log(await app.start().then(() => "started", (e) => e.code));`,
  );
  assert.deepEqual(failed.lines, ["START_FAILED"]);
  assert.ok(failed.lagMs < LAG_MS, `exited ${failed.lagMs} ms after the rejection`);
  const late = await caller(
    sb,
    "never-ready",
    { readiness: "notify", readyTimeout: 300, stopTimeout: 10_000 },
    `console.log(await app.start().then(() => "started", (e) => e.code));`,
  );
  assert.deepEqual(late.lines, ["READY_TIMEOUT"]);
  assert.ok(late.lagMs < LAG_MS, `exited ${late.lagMs} ms after the rejection`);
});

Deno.test("a stop that needs SIGKILL (SIGTERM ignored): the caller exits at once after it", async () => {
  await using sb = new Sandbox();
  const { lines, lagMs } = await caller(
    sb,
    "ignore-term",
    { readyTimeout: 10_000, stopTimeout: 300 },
    `await app.start();
console.log((await app.stop()).killed);`,
  );
  assert.deepEqual(lines, ["true"]);
  assert.ok(lagMs < LAG_MS, `the caller exited ${lagMs} ms after its last await`);
});
