// The reference point for log throughput: pino, writing the same templated
// lines (the same message and properties as ../workloads/log_flood.ts) to a
// file, with its asynchronous destination (BENCH_PINO=async, the default)
// or `sync: true` (BENCH_PINO=sync). Timed until the lines are written
// (the asynchronous destination flushed); results in pino.json.

import pino from "pino";

const dir = Deno.env.get("BENCH_DIR") ?? Deno.cwd();
const lines = Number(Deno.env.get("BENCH_LINES") ?? "50000");
const sync = Deno.env.get("BENCH_PINO") === "sync";

const destination = pino.destination({ dest: `${dir}/pino.log`, sync, minLength: 0 });
const logger = pino({ base: { pid: Deno.pid, hostname: Deno.hostname() } }, destination);
// The asynchronous destination opens its file in the background.
if (!sync) await new Promise((resolve) => destination.once("ready", resolve));

function flushed(): Promise<void> {
  return new Promise((resolve, reject) => {
    if (sync) return resolve();
    destination.flush((err?: Error) => err ? reject(err) : resolve());
  });
}

async function burst(n: number, from: number): Promise<number> {
  const t0 = performance.now();
  for (let i = from; i < from + n; i++) {
    logger.info({ i, ms: i * 0.25 }, "request %d served in %d ms", i, i * 0.25);
  }
  await flushed();
  return performance.now() - t0;
}

await burst(Math.min(lines, 5000), 0); // warm-up, as the daemon's
const ms = Math.min(await burst(lines, 0), await burst(lines, 0)); // best of two, as the daemon's
destination.flushSync();
Deno.writeTextFileSync(`${dir}/pino.json`, JSON.stringify({ lines, ms }));
