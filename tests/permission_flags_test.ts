// lib/launcher/_permissions.ts: the `deno run` flags start gives the daemon,
// rebuilt from what Deno reports about the launcher's own grants. Each case
// runs a small probe under real flags, then runs it again under the flags it
// computed (plus denoArgs, as spawn does) and compares what the two were
// granted: the daemon gets what its launcher had, no more, plus the one
// narrow grant the library needs.

import assert from "node:assert/strict";
import { LAUNCH_ENV } from "../lib/_launch.ts";
import { DESCRIBE_ENV } from "../lib/_launch.ts";
import { Sandbox } from "./_helpers.ts";

const LIB = new URL("../lib/", import.meta.url).href;
const NAMES = ["read", "write", "net", "env", "sys", "run", "ffi", "import"];

const PROBE = `
import { missingRunGrants, permissionFlags } from "${LIB}launcher/_permissions.ts";
import { LAUNCH_ENV } from "${LIB}_launch.ts";
import { DESCRIBE_ENV } from "${LIB}_launch.ts";
const { denoArgs, commands } = JSON.parse(Deno.args[0]);
const grants = Object.fromEntries(${JSON.stringify(NAMES)}.map((name) => {
  const status = Deno.permissions.querySync({ name });
  return [name, status.state === "granted" && status.partial ? "partial" : status.state];
}));
const library = {
  launchEnv: Deno.permissions.querySync({ name: "env", variable: LAUNCH_ENV }).state,
  describeEnv: Deno.permissions.querySync({ name: "env", variable: DESCRIBE_ENV }).state,
};
let flags = null, error = null;
try {
  flags = permissionFlags(denoArgs);
} catch (err) {
  error = { name: err.name, code: err.code, message: err.message };
}
console.log(JSON.stringify({ grants, library, flags, error, missing: missingRunGrants(commands) }));
`;

interface Probe {
  grants: Record<string, string>;
  library: { launchEnv: string; describeEnv: string };
  flags: string[] | null;
  error: { name: string; code: string; message: string } | null;
  missing: string[];
}

async function probe(
  sb: Sandbox,
  flags: string[],
  denoArgs: string[] = [],
  commands: string[] = [],
): Promise<Probe> {
  const script = sb.path("probe.ts");
  Deno.writeTextFileSync(script, PROBE);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...flags, script, JSON.stringify({ denoArgs, commands })],
    stdin: "null",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return JSON.parse(stdout);
}

// What the daemon needs whatever the user granted: to read its launch spec
// (or a controller's request to describe itself).
const LIBRARY_ONLY = [`--allow-env=${LAUNCH_ENV},${DESCRIBE_ENV}`];
const EACH = NAMES.map((name) => `--allow-${name}`);

const cases: { flags: string[]; denoArgs?: string[]; daemon: string[]; partial?: string }[] = [
  { flags: ["-A"], daemon: ["--allow-all"] },
  { flags: EACH, daemon: ["--allow-all"] },
  { flags: [], daemon: LIBRARY_ONLY },
  {
    flags: ["--allow-read", "--allow-net"],
    daemon: ["--allow-read", "--allow-net", ...LIBRARY_ONLY],
  },
  // Already covered: nothing narrower is added.
  { flags: ["--allow-env", "--allow-write"], daemon: ["--allow-write", "--allow-env"] },
  // Scoped grants read as "prompt": they are not passed on (denoArgs must
  // carry them; the reliability suite's permissions_test covers that).
  { flags: ["--allow-read=/tmp", "--allow-write=/tmp"], daemon: LIBRARY_ONLY },
  // A --deny-* repeated in denoArgs: every grant spelled out, no --allow-all,
  // and the denial comes after them from denoArgs.
  {
    flags: ["-A", "--deny-net=example.com"],
    denoArgs: ["--deny-net=example.com"],
    daemon: EACH,
    partial: "net",
  },
  {
    flags: ["--allow-read", "--deny-read=/etc/shadow"],
    denoArgs: ["--deny-read=/etc/shadow"],
    daemon: ["--allow-read", ...LIBRARY_ONLY],
    partial: "read",
  },
];

for (const c of cases) {
  const denoArgs = c.denoArgs ?? [];
  const given = [
    c.flags.join(" ") || "no flags",
    ...(denoArgs.length ? [`denoArgs ${denoArgs}`] : []),
  ];
  Deno.test(`permission flags: ${given.join(", ")} → the daemon runs with ${c.daemon.join(" ")}`, async () => {
    await using sb = new Sandbox();
    const launcher = await probe(sb, c.flags, denoArgs);
    assert.equal(launcher.error, null);
    if (c.partial) assert.equal(launcher.grants[c.partial], "partial", "Deno reports the denial");
    assert.deepEqual(launcher.flags, c.daemon);
    // As spawn builds it: the computed flags, then the user's denoArgs.
    const daemon = await probe(sb, [...launcher.flags!, ...denoArgs], denoArgs);
    assert.deepEqual(daemon.grants, launcher.grants, "the same grants as the launcher, no more");
    assert.deepEqual(daemon.library, { launchEnv: "granted", describeEnv: "granted" });
  });
}

for (
  const [flags, name] of [[["-A", "--deny-net=example.com"], "net"], [[
    "--allow-env",
    "--deny-env=HOME",
  ], "env"]] as const
) {
  Deno.test(`permission flags: ${flags.join(" ")} without the denial in denoArgs is PERMISSION naming --deny-${name}`, async () => {
    await using sb = new Sandbox();
    const launcher = await probe(sb, [...flags]);
    assert.equal(launcher.flags, null);
    assert.equal(launcher.error?.name, "DaemonError");
    assert.equal(launcher.error?.code, "PERMISSION");
    assert.match(
      launcher.error!.message,
      new RegExp(`--deny-${name} flag.*repeat it in the "denoArgs" option`),
    );
  });
}

Deno.test("permission flags: missingRunGrants names exactly the commands start may not run", async () => {
  await using sb = new Sandbox();
  const commands = ["/bin/sh", Deno.execPath()];
  assert.deepEqual((await probe(sb, [], [], commands)).missing, commands);
  assert.deepEqual((await probe(sb, ["--allow-run=/bin/sh"], [], commands)).missing, [
    Deno.execPath(),
  ]);
  assert.deepEqual(
    (await probe(sb, [`--allow-run=/bin/sh,${Deno.execPath()}`], [], commands)).missing,
    [],
  );
  assert.deepEqual((await probe(sb, ["--allow-run"], [], commands)).missing, []);
});
