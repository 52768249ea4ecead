// The README cannot drift from the code: its API reference is generated and
// checked, its tables match the options and commands, and its quick start
// works word for word.

import assert from "node:assert/strict";
import { COMMANDS } from "../lib/cli.ts";
import { Sandbox, usePackage } from "./_helpers.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const README = Deno.readTextFileSync(`${ROOT}README.md`);

function section(title: string): string {
  const start = README.indexOf(`## ${title}\n`);
  assert.ok(start >= 0, `README has a "${title}" section`);
  const end = README.indexOf("\n## ", start + 1);
  return README.slice(start, end < 0 ? undefined : end);
}

/** The first cells of a markdown table's rows. */
function firstColumn(text: string): string[] {
  return text.split("\n").filter((l) => l.startsWith("| `")).map((l) =>
    /^\| `([^`]+)`/.exec(l)![1]
  );
}

// The JSON of `deno doc` these read (symbols under "nodes") is Deno 2.9's;
// the suite also runs on the oldest Deno the library supports.
const [major, minor] = Deno.version.deno.split(".").map(Number);
const docJson = major > 2 || (major === 2 && minor >= 9);
const noDocJson = docJson
  ? ""
  : ` (ignored: needs the deno doc --json of Deno 2.9, this is ${Deno.version.deno})`;

Deno.test({
  name:
    `the README's API reference is what \`deno task readme\` generates from the code${noDocJson}`,
  ignore: !docJson,
  async fn() {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${ROOT}scripts/readme_api.ts`, "--check"],
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  },
});

Deno.test({
  name: `the README's options table lists exactly the DaemonOptions, in order${noDocJson}`,
  ignore: !docJson,
}, async () => {
  const out = await new Deno.Command(Deno.execPath(), { args: ["doc", "--json", `${ROOT}mod.ts`] })
    .output();
  const doc = JSON.parse(new TextDecoder().decode(out.stdout));
  const symbols: { name: string; declarations: { def: { properties?: { name: string }[] } }[] }[] =
    Object
      .values(doc.nodes as Record<string, { symbols: never[] }>).flatMap((n) => n.symbols);
  const options = symbols.find((s) => s.name === "DaemonOptions")!.declarations[0].def.properties!
    .map((p) => p.name);
  assert.deepEqual(firstColumn(section("Options")), options);
});

Deno.test("the README's commands table lists every command", () => {
  assert.deepEqual(firstColumn(section("Commands and exit codes")).filter((c) => c !== "other"), [
    ...COMMANDS,
  ]);
});

Deno.test("the README's quick start works word for word", async () => {
  await using sb = new Sandbox();
  const code = /```ts\n(\/\/ app\.ts\n[\s\S]*?)```/.exec(README)![1];
  // A user's project: app.ts beside a deno.json that maps "@daemonize/daemon".
  usePackage(sb.dir);
  const app = sb.path("app.ts");
  Deno.writeTextFileSync(app, code);
  const run = (command: string, cwd = sb.dir) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", app, command],
      cwd,
      env: sb.envMarker(),
    })
      .output();
  // Started from elsewhere, found from the script's directory: its paths
  // do not depend on where the command is typed.
  Deno.mkdirSync(sb.path("elsewhere"));
  const start = await run("start", sb.path("elsewhere"));
  assert.equal(start.code, 0, new TextDecoder().decode(start.stderr));
  assert.match(new TextDecoder().decode(start.stdout), /^started app \(pid \d+\)\n$/);
  assert.equal((await run("status")).code, 0);
  // The loop's 1 s sleep began when the daemon started: a sleep that
  // ignored the signal would hold stop for most of that second.
  const t0 = performance.now();
  const stop = await run("stop");
  const took = performance.now() - t0;
  assert.match(new TextDecoder().decode(stop.stdout), /^stopped app \(pid \d+\)\n$/);
  assert.ok(took < 600, `stop took ${Math.round(took)} ms: the quick start's sleep must abort`);
  const log = sb.readLog("app.log");
  assert.match(log, /\[INF\] app: worker up/);
  assert.match(log, /\[INF\] app·db: any module logs into the same file/);
});
