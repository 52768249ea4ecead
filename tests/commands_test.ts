// reload, logs, --json and colours: what users of pm2 and systemctl expect.

import assert from "node:assert/strict";
import { Sandbox, waitFor } from "./_helpers.ts";

Deno.test("reload sends SIGHUP to the lock holder: log reopened, onReload called, exit 0", async () => {
  await using sb = new Sandbox();
  const pid = await sb.start();
  const out = await sb.run(["reload"]);
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout.trim(), `reloaded fx (pid ${pid})`);
  await waitFor("the reload in the log", () => sb.readLog().includes("onReload called"));
  const json = JSON.parse((await sb.run(["reload", "--json"])).stdout);
  assert.equal(json.reloaded, true);
  assert.equal(json.pid, pid);
  await sb.run(["stop"]);
  const idle = await sb.run(["reload"]);
  assert.equal(idle.code, 0);
  assert.equal(idle.stdout.trim(), "not running");
});

Deno.test("logs prints the last N lines of the log file (default 10)", async () => {
  await using sb = new Sandbox();
  Deno.writeTextFileSync(
    sb.logFile,
    Array.from({ length: 30 }, (_, i) => `line ${i + 1}`).join("\n") + "\n",
  );
  const three = await sb.run(["logs", "-n", "3"]);
  assert.equal(three.code, 0, three.stderr);
  assert.equal(three.stdout, "line 28\nline 29\nline 30\n");
  const ten = await sb.run(["logs"]);
  assert.equal(ten.stdout.split("\n").filter(Boolean).length, 10);
  assert.equal(
    (await sb.run(["logs", "--lines", "100"])).stdout.split("\n").filter(Boolean).length,
    30,
  );
  assert.equal((await sb.run(["logs", "-n", "0"])).stdout, "");
  const bad = await sb.run(["logs", "-n", "many"]);
  assert.equal(bad.code, 2);
});

Deno.test("logs without a log file: a clear error, exit 1", async () => {
  await using sb = new Sandbox();
  const missing = await sb.run(["logs"]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /logFile ".*app\.log" does not exist yet/);
  const unset = await sb.run(["logs"], { options: { logFile: null } });
  assert.equal(unset.code, 1);
  assert.match(unset.stderr, /option "logFile" is not set/);
});

Deno.test("logs -f follows new lines across a rotation until Ctrl-C, each line once", async () => {
  await using sb = new Sandbox();
  const pid = await sb.start();
  const follower = sb.command(["logs", "-f", "-n", "1"]).spawn();
  sb.extraPids.push(follower.pid);
  let seen = "";
  const pumped = (async () => {
    for await (const text of follower.stdout.pipeThrough(new TextDecoderStream())) seen += text;
  })();
  const count = (text: string, what: string) => text.split(what).length - 1;
  const until = (what: string, times = 1) =>
    waitFor(`"${what}" ${times} time(s) from logs -f`, () => count(seen, what) >= times);
  await until("started fx");
  Deno.kill(pid, "SIGHUP");
  await until("onReload called");
  Deno.renameSync(sb.logFile, sb.path("app.log.1"));
  Deno.kill(pid, "SIGHUP");
  // The second reload is written to the new file only: seeing it means the
  // follower moved over.
  await waitFor(
    "the second reload in the new file",
    () => sb.readLog().includes("onReload called"),
  );
  assert.equal(count(sb.readLog("app.log.1"), "onReload called"), 1);
  await until("onReload called", 2);
  assert.equal((await sb.run(["stop"])).code, 0);
  await until("exiting: stopped by SIGTERM");
  follower.kill("SIGINT");
  assert.equal((await follower.status).code, 0);
  await pumped;
  await follower.stderr.cancel();
  const messages = seen.trimEnd().split("\n").map((line) => line.replace(/^.*? \[\w+\] /, ""));
  assert.deepEqual(messages, [
    `daemonize: started fx (pid ${pid})`,
    "daemonize: reload: SIGHUP",
    "fx: onReload called",
    "daemonize: reload: SIGHUP",
    "fx: onReload called",
    "daemonize: stopping: SIGTERM",
    "fx: down",
    "daemonize: exiting: stopped by SIGTERM (exit code 0)",
  ]);
});

Deno.test("start, stop and status print one JSON object with --json", async () => {
  await using sb = new Sandbox();
  const start = JSON.parse((await sb.run(["start", "--json"])).stdout);
  assert.equal(start.running, true);
  assert.equal(start.alreadyRunning, false);
  const status = JSON.parse((await sb.run(["status", "--json"])).stdout);
  assert.equal(status.pid, start.pid);
  const stop = JSON.parse((await sb.run(["stop", "--json"])).stdout);
  assert.equal(stop.stoppedPid, start.pid);
  const none = await sb.run(["status", "--json"]);
  assert.equal(none.code, 3);
  assert.equal(JSON.parse(none.stdout).running, false);
});

function inTerminal(sb: Sandbox, args: string, env: Record<string, string> = {}): string {
  // script(1) gives the command a pseudo-terminal.
  const command = `${Deno.execPath()} run -A ${
    new URL("./fixtures/app.ts", import.meta.url).pathname
  } ${args}`;
  const out = new Deno.Command("script", {
    args: ["-qec", command, "/dev/null"],
    cwd: sb.dir,
    env: { FIXTURE_DIR: sb.dir, ...env },
    clearEnv: true,
  }).outputSync();
  return new TextDecoder().decode(out.stdout);
}

Deno.test("human output is coloured only on a terminal, and never with NO_COLOR", async () => {
  await using sb = new Sandbox();
  const env = {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: Deno.env.get("HOME") ?? "/root",
  };
  const ESC = "\x1b[";
  assert.ok(inTerminal(sb, "status", env).includes(`${ESC}33mfx is not running${ESC}0m`));
  assert.ok(!inTerminal(sb, "status", { ...env, NO_COLOR: "1" }).includes(ESC));
  const piped = await sb.run(["status"], { env: { NO_COLOR: "" } });
  assert.ok(!piped.stdout.includes(ESC));
});
