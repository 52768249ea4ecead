// The markdown report: machine line, table, log throughput, targets, notes.

import type { Machine } from "./_machine.ts";
import type { Summary } from "./_stats.ts";
import type { RowSummary, Target, ThroughputSummary } from "./_targets.ts";

/** "63.2 (58.1–80.4)" */
function fig(s: Summary | null, digits = 1): string {
  if (s === null) return "—";
  const f = (v: number) => v.toFixed(digits);
  return `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
}

function perSec(s: Summary | null): string {
  if (s === null) return "—";
  const k = (v: number) => `${Math.round(v / 1000)}k`;
  return `${k(s.median)} (${k(s.min)}–${k(s.max)})`;
}

/** The line saying where and how the figures were taken. */
export function machineLine(m: Machine, runs: number, warmup: number, date: string): string {
  return `Taken ${date.slice(0, 10)} on ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ` +
    `${m.os}, Linux ${m.kernel}, Deno ${m.deno}; load average ${m.loadAverageStart} before, ` +
    `${m.loadAverageEnd} after. ` +
    `${runs} run${runs === 1 ? "" : "s"} per row after ${warmup} warm-up, rows interleaved; ` +
    `median (min–max) in ms unless marked.`;
}

/** The results table. */
export function table(rows: RowSummary[]): string {
  const head = [
    "Row",
    "start → ready",
    "start returned",
    "returned before ready",
    "stop → gone",
    "status",
    "daemon RSS MiB",
    "supervisor RSS MiB",
  ];
  const lines = [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`];
  for (const r of rows) {
    if (r.skipped !== null || r.runs === 0) {
      const why = r.skipped ?? r.failed ?? "no runs";
      lines.push(`| ${r.label} | ${r.skipped ? "skipped" : "failed"}: ${why} ${"| ".repeat(6)}|`);
      continue;
    }
    const before = r.kind === "once"
      ? "—"
      : `${r.returnedBeforeReady} of ${r.runs}${
        r.orderUnknown > 0 ? ` (${r.orderUnknown} too close to tell)` : ""
      }`;
    lines.push(
      `| ${
        [
          r.label,
          fig(r.startReady),
          fig(r.startReturned),
          before,
          fig(r.stopGone),
          fig(r.run ?? r.status),
          fig(r.rssMiB),
          fig(r.supervisorRssMiB),
        ].join(" | ")
      } |`,
    );
  }
  return lines.join("\n");
}

/** The log throughput paragraph. */
export function throughputText(t: ThroughputSummary | null): string {
  if (t === null) return "Log throughput: not measured.";
  const vs = (a: Summary | null, b: Summary | null) =>
    a && b ? `${(a.median / b.median).toFixed(2)}×` : "?";
  const rows: [string, Summary | null, string][] = [
    ["LogTape → no-op sink (the ceiling, in the text daemon)", t.ceiling, "1.00×"],
    ["ctx.logger → log file, text", t.templated, `${t.textToCeiling?.median.toFixed(2)}×`],
    ["LogTape → no-op sink (in the JSON daemon)", t.jsonCeiling, "1.00×"],
    ["ctx.logger → log file, JSON Lines", t.json, `${t.jsonToCeiling?.median.toFixed(2)}×`],
    ["pino, asynchronous destination", t.pinoAsync, vs(t.pinoAsync, t.ceiling)],
    ["pino, `sync: true`", t.pinoSync, vs(t.pinoSync, t.ceiling)],
  ];
  return `Log throughput, ${t.runs} runs of ${t.lines} lines. Templated lines ` +
    "(`request {i} served in {ms} ms` with `{ i, ms }`; pino: the same message and properties), " +
    "lines/s median (min–max), and the ratio to the no-op ceiling (per run, same process):\n\n" +
    "| Writer | lines/s | × ceiling |\n|---|---|---|\n" +
    rows.map(([label, s, r]) => `| ${label} | ${perSec(s)} | ${r} |`).join("\n") +
    `\n\nJSON ÷ text: ${vs(t.json, t.templated)} in lines/s, ${
      vs(t.jsonToCeiling, t.textToCeiling)
    } as fractions of each process's ceiling; text ÷ pino async: ${
      vs(t.templated, t.pinoAsync)
    }; text ÷ pino sync: ${vs(t.templated, t.pinoSync)}. Plain messages (the text the raw loop ` +
    `writes) through ctx.logger ${perSec(t.library)}; raw per-line writeSync loop ${
      perSec(t.raw)
    }. Lines lost when stopped while logging: ${t.lost} of ${t.accepted}.`;
}

/** The target lines, one per target. */
export function targetLines(targets: Target[]): string {
  return targets.map((t) => {
    const mark = t.pass === null ? "n/a" : t.pass ? "PASS" : "MISS";
    return `- **${mark}** ${t.text}: ${t.measured}`;
  }).join("\n");
}

/** The whole report. */
export function report(
  machine: string,
  rows: RowSummary[],
  log: ThroughputSummary | null,
  targets: Target[],
): string {
  const notes = rows.map((r) => `- **${r.label}**: ${r.notes}`).join("\n");
  return `# Benchmark results

${machine}

${table(rows)}

${throughputText(log)}

## Targets (ratios of medians from this run)

${targetLines(targets)}

## What each row measures

${notes}

![start → ready and stop → gone per row](chart.svg)
`;
}
