// Every example, as a user would run it: start, status, what it does, stop.
// The examples keep their pidfile and log beside themselves, so each test
// runs a copy of examples/ in a temporary directory: a user's own example
// daemon (`deno task start`) and its log are never touched.

import assert from "node:assert/strict";
import { collect, copyTree, isAlive, Sandbox, usePackage, waitFor } from "./_helpers.ts";

const EXAMPLES = new URL("../examples/", import.meta.url).pathname;

/** A sandbox holding a copy of examples/ that imports this package. */
function examples(): Sandbox & { examples: string } {
  const sb = new Sandbox();
  usePackage(sb.dir);
  copyTree(EXAMPLES, sb.path("examples"));
  return Object.assign(sb, { examples: sb.path("examples/") });
}

async function deno(
  sb: Sandbox,
  script: string,
  args: string[],
  env: Record<string, string> = {},
) {
  return await collect(
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${sb.path("examples/")}${script}`, ...args],
      cwd: sb.dir,
      env: { NO_COLOR: "1", ...sb.envMarker(), ...env },
      stdin: "null",
    }),
  );
}

function read(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}

/** Starts an example, runs `check`, and stops it; the sandbox kills it by pid if the test fails. */
async function exercise(
  sb: Sandbox,
  script: string,
  name: string,
  dir: string,
  check: (pid: number, log: () => string) => Promise<void>,
  env: Record<string, string> = {},
): Promise<void> {
  const logFile = `${sb.path("examples/")}${dir}${name}.log`;
  const start = await deno(sb, script, ["start"], env);
  assert.equal(start.code, 0, start.stderr);
  const pid = Number(new RegExp(`started ${name} \\(pid (\\d+)\\)`).exec(start.stdout)?.[1]);
  assert.equal((await deno(sb, script, ["status"])).code, 0);
  await check(pid, () => read(logFile));
  const stop = await deno(sb, script, ["stop"]);
  assert.equal(stop.code, 0, stop.stderr);
  assert.equal(isAlive(pid), false);
  assert.match(read(logFile), /exiting: stopped by SIGTERM \(exit code 0\)/);
}

Deno.test("examples/hello.ts: ticks into its log until stopped", async () => {
  await using sb = examples();
  await exercise(sb, "hello.ts", "hello", "", async (_pid, log) => {
    await waitFor("a tick", () => log().includes("hello·db: tick 1"));
    assert.match(log(), /hello: hello, world: worker up/);
  });
});

Deno.test("examples/service.ts: the class form reloads on `reload`", async () => {
  await using sb = examples();
  await exercise(sb, "service.ts", "service", "", async (pid, log) => {
    const reload = await deno(sb, "service.ts", ["reload"], { GREETING: "hi there" });
    assert.equal(reload.stdout.trim(), `reloaded service (pid ${pid})`);
    await waitFor("the reload", () => log().includes("reloaded, greeting now"));
  });
});

Deno.test("examples/http.ts: start returns once it listens, and it serves a page", async () => {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = probe.addr.port;
  probe.close();
  await using sb = examples();
  await exercise(sb, "http.ts", "http", "", async (pid) => {
    // No retry: readiness "notify" means the server listens when start returns.
    const response = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(await response.text(), `hello from http (pid ${pid})\n`);
  }, { PORT: String(port) });
});

Deno.test("examples/periodic.ts: runs every EVERY seconds, stops between runs at once; run -- --once runs once", async () => {
  await using sb = examples();
  await exercise(sb, "periodic.ts", "periodic", "", async (_pid, log) => {
    await waitFor("two runs", () => log().includes("job run #2"));
  }, { EVERY: "0.05" });
  Deno.removeSync(`${sb.examples}periodic.log`);
  const once = await deno(sb, "periodic.ts", ["run", "--", "--once"]);
  assert.equal(once.code, 0, once.stderr);
  assert.match(
    read(`${sb.examples}periodic.log`),
    /job run #1[^\n]*\n[\s\S]*exiting: main returned \(exit code 0\)/,
  );
  assert.doesNotMatch(read(`${sb.examples}periodic.log`), /job run #2/);
});

Deno.test("examples/worker: several modules log into the one file", async () => {
  await using sb = examples();
  await exercise(sb, "worker/main.ts", "worker", "worker/", async (_pid, log) => {
    await waitFor("the store's lines", () => log().includes("worker·store: saved result of job"));
    assert.match(log(), /\[DBG\] worker·queue: dequeued \d+/);
    assert.match(log(), /\[INF\] worker: worker up/);
  });
});
