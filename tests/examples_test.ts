// Every example, as a user would run it: start, status, what it does, stop.
// The examples keep their pidfile and log beside themselves, in examples/.

import assert from "node:assert/strict";
import { isAlive, waitFor } from "./_helpers.ts";

const EXAMPLES = new URL("../examples/", import.meta.url).pathname;

async function deno(script: string, args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${EXAMPLES}${script}`, ...args],
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

function read(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}

/** Starts an example (from a clean log), runs `check`, and always stops it by pid. */
async function exercise(
  script: string,
  name: string,
  dir: string,
  check: (pid: number, log: () => string) => Promise<void>,
  env: Record<string, string> = {},
): Promise<void> {
  const logFile = `${dir}${name}.log`;
  try {
    Deno.removeSync(logFile);
  } catch { /* none yet */ }
  const start = await deno(script, ["start"], env);
  assert.equal(start.code, 0, start.stderr);
  const pid = Number(new RegExp(`started ${name} \\(pid (\\d+)\\)`).exec(start.stdout)?.[1]);
  try {
    assert.equal((await deno(script, ["status"])).code, 0);
    await check(pid, () => read(logFile));
    const stop = await deno(script, ["stop"]);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(isAlive(pid), false);
    assert.match(read(logFile), /exiting: stopped by SIGTERM \(exit code 0\)/);
  } finally {
    if (isAlive(pid)) Deno.kill(pid, "SIGKILL");
    Deno.removeSync(logFile);
  }
}

Deno.test("examples/hello.ts: ticks into its log until stopped", async () => {
  await exercise("hello.ts", "hello", EXAMPLES, async (_pid, log) => {
    await waitFor("a tick", () => log().includes("hello·db: tick 1"));
    assert.match(log(), /hello: hello, world: worker up/);
  });
});

Deno.test("examples/service.ts: the class form reloads on `reload`", async () => {
  await exercise("service.ts", "service", EXAMPLES, async (pid, log) => {
    const reload = await deno("service.ts", ["reload"], { GREETING: "hi there" });
    assert.equal(reload.stdout.trim(), `reloaded service (pid ${pid})`);
    await waitFor("the reload", () => log().includes("reloaded, greeting now"));
  });
});

Deno.test("examples/http.ts: start returns once it listens, and it serves a page", async () => {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = probe.addr.port;
  probe.close();
  await exercise("http.ts", "http", EXAMPLES, async (pid) => {
    // No retry: readiness "notify" means the server listens when start returns.
    const response = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(await response.text(), `hello from http (pid ${pid})\n`);
  }, { PORT: String(port) });
});

Deno.test("examples/periodic.ts: runs every EVERY seconds, stops between runs at once; run -- --once runs once", async () => {
  await exercise("periodic.ts", "periodic", EXAMPLES, async (_pid, log) => {
    await waitFor("two runs", () => log().includes("job run #2"));
  }, { EVERY: "0.05" });
  const once = await deno("periodic.ts", ["run", "--", "--once"]);
  assert.equal(once.code, 0, once.stderr);
  assert.match(
    read(`${EXAMPLES}periodic.log`),
    /job run #1[^\n]*\n[\s\S]*exiting: main returned \(exit code 0\)/,
  );
  assert.doesNotMatch(read(`${EXAMPLES}periodic.log`), /job run #2/);
  Deno.removeSync(`${EXAMPLES}periodic.log`);
});

Deno.test("examples/worker: several modules log into the one file", async () => {
  await exercise("worker/main.ts", "worker", `${EXAMPLES}worker/`, async (_pid, log) => {
    await waitFor("the store's lines", () => log().includes("worker·store: saved result of job"));
    assert.match(log(), /\[DBG\] worker·queue: dequeued \d+/);
    assert.match(log(), /\[INF\] worker: worker up/);
  });
});
