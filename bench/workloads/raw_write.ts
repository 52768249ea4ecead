// The baseline for log throughput: BENCH_LINES lines, each formatted like a
// log line (timestamp, level, category, text) and written with its own
// synchronous write on an append-mode Deno.FsFile.

const dir = Deno.env.get("BENCH_DIR") ?? Deno.cwd();
const lines = Number(Deno.env.get("BENCH_LINES") ?? "50000");
const file = Deno.openSync(`${dir}/raw.log`, { append: true, create: true });
const encoder = new TextEncoder();

const t0 = performance.now();
for (let i = 0; i < lines; i++) {
  file.writeSync(encoder.encode(`${new Date().toISOString()} [INF] raw: line ${i}\n`));
}
const ms = performance.now() - t0;
file.close();
Deno.writeTextFileSync(`${dir}/throughput.json`, JSON.stringify({ lines, ms }));
