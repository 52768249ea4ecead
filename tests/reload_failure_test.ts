// reload tells the truth: when the daemon cannot reopen its log, the reload
// command fails with the daemon's reason and Daemon.reload() resolves with
// it; a reload that works still exits 0.

import assert from "node:assert/strict";
import { Daemon } from "../mod.ts";
import { Sandbox, waitFor } from "./_helpers.ts";

const MODULE = new URL("./fixtures/app.ts", import.meta.url);

Deno.test("reload with the log's directory removed: exit 1 with the daemon's reason, --json RELOAD_FAILED, the controller resolves with it; works again once the directory is back", async () => {
  await using sb = new Sandbox();
  const logs = sb.path("logs");
  Deno.mkdirSync(logs);
  const options = { logFile: `${logs}/app.log` };
  const pid = await sb.start({ options });
  const ok = await sb.run(["reload"], { options });
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout.trim(), `reloaded fx (pid ${pid})`);

  Deno.removeSync(logs, { recursive: true });
  const failed = await sb.run(["reload"], { options });
  assert.equal(failed.code, 1, failed.stdout);
  assert.equal(failed.stdout, "", "no success line");
  assert.match(
    failed.stderr,
    new RegExp(`fx \\(pid ${pid}\\) did not reload: cannot reopen the log file`),
  );
  assert.match(failed.stderr, /logs of logFile ".*app\.log" does not exist/);
  assert.doesNotMatch(failed.stderr, /^\s+at /m);

  const json = await sb.run(["reload", "--json"], { options });
  assert.equal(json.code, 1);
  const parsed = JSON.parse(json.stdout);
  assert.equal(parsed.name, "fx");
  assert.equal(parsed.error.code, "RELOAD_FAILED");
  assert.match(parsed.error.message, /cannot reopen the log file/);

  const app = new Daemon({ module: MODULE, pidFile: sb.pidFile, ...options, env: sb.envMarker() });
  const result = await app.reload();
  assert.equal(result.running, true);
  assert.equal(result.pid, pid);
  assert.equal(result.reloaded, false);
  assert.match(result.error ?? "", /cannot reopen the log file: .*does not exist/);

  // The directory back: the next reload works, and the daemon logs into
  // the new file.
  Deno.mkdirSync(logs);
  const again = await sb.run(["reload"], { options });
  assert.equal(again.code, 0, again.stderr);
  assert.equal((await app.reload()).reloaded, true);
  await waitFor("the reload in the new log", () => sb.readLog("logs/app.log").includes("reload"));
  assert.equal((await sb.run(["stop"], { options })).code, 0);
});
