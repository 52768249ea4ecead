/**
 * `deno task demo`: starts the hello example as a daemon, shows its status
 * and the last lines of its log, and stops it.
 *
 * @module
 */

const hello = new URL("./hello.ts", import.meta.url).pathname;
const log = new URL("./hello.log", import.meta.url).pathname;

async function step(command: string): Promise<number> {
  console.log(`$ deno run -A examples/hello.ts ${command}`);
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", hello, command],
  }).output();
  await Deno.stdout.write(stdout);
  await Deno.stderr.write(stderr);
  return code;
}

if (await step("start") !== 0) Deno.exit(1);
await step("status");
// Let it tick a couple of times so the log has something to show.
await new Promise((resolve) => setTimeout(resolve, 2100));
console.log(`$ tail -n 5 examples/hello.log`);
console.log(Deno.readTextFileSync(log).trimEnd().split("\n").slice(-5).join("\n"));
const stopped = await step("stop");
console.log(`$ tail -n 2 examples/hello.log`);
console.log(Deno.readTextFileSync(log).trimEnd().split("\n").slice(-2).join("\n"));
Deno.exit(stopped);
