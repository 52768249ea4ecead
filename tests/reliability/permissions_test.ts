// Narrow Deno permissions: start works when the scoped grants are repeated
// in denoArgs, and fails at once with PERMISSION naming the flag otherwise,
// never leaving a half-started daemon.

import assert from "node:assert/strict";
import { collect, isAlive, type Output, processesWith, Sandbox } from "../_helpers.ts";
import { figure } from "./_seed.ts";

function narrow(sb: Sandbox, run = `--allow-run=/bin/sh,${Deno.execPath()}`): string[] {
  return ["--allow-env", `--allow-read=${sb.dir}`, `--allow-write=${sb.dir}`, run];
}

Deno.test("scoped --allow-read/--allow-write/--allow-run work when repeated in denoArgs", async () => {
  await using sb = new Sandbox();
  const o = {
    denoFlags: narrow(sb),
    options: { denoArgs: [`--allow-read=${sb.dir}`, `--allow-write=${sb.dir}`] },
  };
  const start = await sb.run(["start"], o);
  assert.equal(start.code, 0, start.stderr);
  const status = await sb.run(["status"], o);
  assert.equal(status.code, 0, status.stderr);
  const stop = await sb.run(["stop"], o);
  assert.equal(stop.code, 0, stop.stderr);
  assert.match(sb.readLog(), /exiting: stopped by SIGTERM/);
  figure("permissions.scoped_with_denoArgs", "start/status/stop exit 0");
});

Deno.test("scoped --allow-run: a start that times out still stops what it started (READY_TIMEOUT, nothing left)", async () => {
  await using sb = new Sandbox();
  const o = {
    denoFlags: narrow(sb),
    behavior: "never-ready",
    options: {
      readiness: "notify",
      readyTimeout: 400,
      stopTimeout: 1000,
      denoArgs: [`--allow-read=${sb.dir}`, `--allow-write=${sb.dir}`],
    },
  };
  const start = sb.command(["start"], o).spawn();
  sb.extraPids.push(start.pid);
  // Deno.kill needs an unscoped --allow-run: without the shell's kill, the
  // keeper's group was never signalled and start waited for it forever.
  const out = await Promise.race([
    start.output(),
    new Promise<null>((r) => setTimeout(() => r(null), 15000)),
  ]);
  assert.notEqual(out, null, "start returned");
  assert.equal(out!.code, 1);
  assert.match(new TextDecoder().decode(out!.stderr), /did not report ready within 400 ms/);
  assert.deepEqual(processesWith(sb.marker), [], "nothing of the start left");
  assert.equal(sb.exists("app.pid"), false);
});

Deno.test("scoped grants not repeated in denoArgs: PERMISSION at once, naming the file and the flags", async () => {
  await using sb = new Sandbox();
  const out = await sb.run(["start"], { denoFlags: narrow(sb), options: { logFile: null } });
  assert.equal(out.code, 1);
  assert.match(
    out.stderr,
    /Deno denied access to pidFile ".*app\.pid": grant it with --allow-read and --allow-write/,
  );
  assert.match(out.stderr, /"denoArgs" option/);
  assert.deepEqual(processesWith(sb.marker), []);
  assert.equal(sb.exists("app.pid"), false);
});

Deno.test("no run permission for /bin/sh and the real Deno binary: PERMISSION naming --allow-run", async () => {
  await using sb = new Sandbox();
  for (const run of ["--allow-run=deno", `--allow-run=${Deno.execPath()}`]) {
    const out = await sb.run(["start"], { denoFlags: narrow(sb, run) });
    assert.equal(out.code, 1, run);
    assert.match(out.stderr, new RegExp(`add --allow-run=/bin/sh,${Deno.execPath()}`));
    assert.doesNotMatch(out.stderr, /^\s+at /m);
  }
  assert.deepEqual(processesWith(sb.marker), []);
});

Deno.test("no --allow-all and no run permission for /bin/sh: stop, reload and restart fail with PERMISSION, signalling nobody", async () => {
  await using sb = new Sandbox();
  const daemon = await sb.start();
  for (const run of [`--allow-run=${Deno.execPath()}`, null]) {
    const denoFlags = narrow(sb, run ?? "--deny-run");
    for (const command of ["stop", "reload", "restart"]) {
      const out = await sb.run([command], { denoFlags });
      assert.equal(out.code, 1, `${command} ${run}: ${out.stdout}`);
      assert.match(out.stderr, /cannot prove that pid \d+ .* holds the pidfile's lock/);
      assert.match(out.stderr, /--allow-all, or grant --allow-run=\/bin\/sh/);
      assert.doesNotMatch(out.stderr, /remove it/);
    }
  }
  assert.ok(isAlive(daemon), "the daemon was not signalled");
  assert.doesNotMatch(sb.readLog(), /onReload called|exiting/);
  assert.equal((await sb.run(["stop"])).code, 0);
});

/**
 * Makes the sandbox readable by user nobody (uid 65534) and gives it a Deno
 * cache of its own (root's is private) holding the fixture's one npm package.
 */
async function shareWithNobody(sb: Sandbox): Promise<string> {
  const denoDir = sb.path("deno-dir");
  const info = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"] }).output();
  const { npmCache } = JSON.parse(new TextDecoder().decode(info.stdout));
  const registry = `${denoDir}/npm/registry.npmjs.org`;
  Deno.mkdirSync(registry, { recursive: true });
  for (
    const [command, args] of [
      ["cp", ["-r", `${npmCache}/registry.npmjs.org/@logtape`, registry]],
      ["chmod", ["-R", "a+rX", sb.dir]],
    ] as const
  ) {
    const out = await new Deno.Command(command, { args: [...args] }).output();
    assert.ok(out.success, `${command}: ${new TextDecoder().decode(out.stderr)}`);
  }
  return denoDir;
}

/** Runs the fixture as user nobody, with the cache `shareWithNobody` made. */
async function asNobody(
  sb: Sandbox,
  denoDir: string,
  args: string[],
  flags: string[],
): Promise<Output> {
  return await collect(
    new Deno.Command("setpriv", {
      args: [
        "--reuid",
        "65534",
        "--regid",
        "65534",
        "--clear-groups",
        Deno.execPath(),
        "run",
        ...flags,
        new URL("../fixtures/app.ts", import.meta.url).pathname,
        ...args,
      ],
      cwd: sb.dir,
      env: { ...sb.envMarker(), DENO_DIR: denoDir, NO_COLOR: "1", FIXTURE_OPTIONS: "{}" },
      stdin: "null",
    }),
  );
}

Deno.test({
  name:
    `another user's daemon (root's, stopped by nobody): PERMISSION naming the owner, never "remove it"${
      Deno.uid() === 0 ? "" : " [ignored: needs root to run a root daemon and setpriv]"
    }`,
  ignore: Deno.uid() !== 0,
  fn: async () => {
    await using sb = new Sandbox();
    const daemon = await sb.start();
    const denoDir = await shareWithNobody(sb);
    for (const flags of [["-A"], narrow(sb)]) {
      for (const command of ["stop", "reload"]) {
        const out = await asNobody(sb, denoDir, [command], flags);
        assert.equal(out.code, 1, `${command} ${flags}: ${out.stdout}${out.stderr}`);
        assert.match(
          out.stderr,
          /pid \d+ \(named by pidFile .*\) belongs to another user \(uid 0\).*run this command as that user or as root/,
        );
        assert.doesNotMatch(out.stderr, /remove it|does not hold its lock/);
      }
      const status = await asNobody(sb, denoDir, ["status", "--json"], flags);
      assert.equal(status.code, 0, status.stderr);
      assert.equal(JSON.parse(status.stdout).pid, daemon, "status still names the pid written");
    }
    assert.ok(isAlive(daemon));
    assert.doesNotMatch(sb.readLog(), /onReload called|exiting/);
    assert.equal((await sb.run(["stop"])).code, 0);
  },
});

Deno.test({
  name: `no /proc (unmounted in a private mount namespace): UNSUPPORTED, nobody signalled${
    Deno.uid() === 0 ? "" : " [ignored: needs root for unshare --mount]"
  }`,
  ignore: Deno.uid() !== 0,
  fn: async () => {
    await using sb = new Sandbox();
    const daemon = await sb.start();
    const app = new URL("../fixtures/app.ts", import.meta.url).pathname;
    for (const flags of [["-A"], narrow(sb)]) {
      const out = await new Deno.Command("unshare", {
        args: [
          "--mount",
          "/bin/sh",
          "-c",
          'umount -l /proc && exec "$@"',
          "sh",
          Deno.execPath(),
          "run",
          ...flags,
          app,
          "stop",
        ],
        cwd: sb.dir,
        env: { ...sb.envMarker(), NO_COLOR: "1" },
        stdin: "null",
      }).output();
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 1, stderr);
      assert.match(stderr, /\/proc is not mounted.*refusing to signal a pid on trust/);
    }
    assert.ok(isAlive(daemon), "the daemon was not signalled");
    assert.equal((await sb.run(["stop"])).code, 0);
  },
});
