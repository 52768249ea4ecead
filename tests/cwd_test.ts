// The base for relative paths: the logical PWD when it names the current
// directory, else the physical one.

import assert from "node:assert/strict";

const CWD_MODULE = new URL("../lib/_cwd.ts", import.meta.url).href;

async function launchDirectory(
  dir: string,
  cwd: string,
  pwd: string | null,
  flags = ["-A"],
): Promise<string> {
  const script = `${dir}/where.ts`;
  Deno.writeTextFileSync(
    script,
    `import { launchDirectory } from "${CWD_MODULE}";\nconsole.log(launchDirectory());\n`,
  );
  const env: Record<string, string> = pwd === null ? {} : { PWD: pwd };
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...flags, script],
    cwd,
    env,
    clearEnv: true,
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout).trim();
}

Deno.test("launchDirectory: PWD when it names the current directory, else the physical one", async () => {
  const dir = Deno.realPathSync(Deno.makeTempDirSync({ prefix: "daemonize-cwd-" }));
  try {
    Deno.mkdirSync(`${dir}/releases/v1`, { recursive: true });
    Deno.mkdirSync(`${dir}/releases/v2`, { recursive: true });
    Deno.symlinkSync("releases/v1", `${dir}/current`);
    const v1 = `${dir}/releases/v1`;
    const current = `${dir}/current`;
    assert.equal(await launchDirectory(dir, current, current), current);
    assert.equal(await launchDirectory(dir, current, `${current}/`), current, "trailing slash");
    assert.equal(await launchDirectory(dir, current, `${dir}//current`), current, "double slash");
    assert.equal(await launchDirectory(dir, current, null), v1, "no PWD");
    assert.equal(await launchDirectory(dir, current, "current"), v1, "a relative PWD");
    assert.equal(await launchDirectory(dir, current, `${current}/../current`), v1, "with ..");
    assert.equal(await launchDirectory(dir, current, `${dir}/./current`), v1, "with .");
    assert.equal(await launchDirectory(dir, current, dir), v1, "PWD names another directory");
    assert.equal(await launchDirectory(dir, current, `${dir}/missing`), v1, "PWD names nothing");
    assert.equal(
      await launchDirectory(dir, current, current, ["--allow-read"]),
      v1,
      "no env permission: the physical directory, silently",
    );
    // A shell still in v1 after the link moved on: PWD is stale.
    Deno.removeSync(`${dir}/current`);
    Deno.symlinkSync("releases/v2", `${dir}/current`);
    assert.equal(await launchDirectory(dir, v1, current), v1, "a stale PWD");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
