// The markdown report: machine line, tables, costs, log throughput,
// targets, notes. The README's figures (bench/readme.ts) are these same
// sections, read back from results.json.

import type { Cost } from "./_costs.ts";
import type { Machine } from "./_machine.ts";
import type { Summary } from "./_stats.ts";
import type { RowSummary, Target, ThroughputSummary } from "./_targets.ts";

/** Everything a report is made of. */
export interface Results {
  machine: string;
  rows: RowSummary[];
  log: ThroughputSummary | null;
  targets: Target[];
  costs: Cost[];
}

/** "63.2 (58.1–80.4)" */
function fig(s: Summary | null | undefined, digits = 1): string {
  if (s === null || s === undefined) return "—";
  const f = (v: number) => v.toFixed(digits);
  return `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
}

function perSec(s: Summary | null | undefined): string {
  if (s === null || s === undefined) return "—";
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

function markdownTable(head: string[], body: string[][]): string {
  if (body.length === 0) return "Not measured in this run.";
  return [
    `| ${head.join(" | ")} |`,
    `|${head.map(() => "---").join("|")}|`,
    ...body.map((cells) => `| ${cells.join(" | ")} |`),
  ].join("\n");
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
    "main's RSS MiB",
    "helpers' RSS MiB",
    "helpers' PSS MiB",
  ];
  const lines = [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`];
  for (const r of rows) {
    if (r.skipped !== null || r.runs === 0) {
      const why = r.skipped ?? r.failed ?? "no runs";
      lines.push(
        `| ${r.label} | ${r.skipped ? "skipped" : "failed"}: ${why} ${
          "| ".repeat(head.length - 2)
        }|`,
      );
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
          fig(r.helperRssMiB),
          fig(r.helperPssMiB),
        ].join(" | ")
      } |`,
    );
  }
  return lines.join("\n");
}

const measured = (r: RowSummary) => r.skipped === null && r.runs > 0;

/** Start, phase by phase, for the rows whose daemon reports its timing. */
export function phaseTable(rows: RowSummary[]): string {
  const body = rows.filter((r) => measured(r) && r.startUp).map((r) => [
    r.label,
    fig(r.startUp),
    fig(r.startBoot),
    fig(r.startReport),
    fig(r.startReady),
  ]);
  return markdownTable(
    [
      "Row",
      "invoked → daemon's runtime up",
      "runtime up → ready file",
      "ready file → start returned (< 0: before)",
      "start → ready (polled)",
    ],
    body,
  );
}

/** The restart-on-crash table: the keeper beside pm2's autorestart. */
export function crashTable(rows: RowSummary[]): string {
  const body = rows.filter((r) => measured(r) && r.crashReady).map((r) => [
    r.label,
    fig(r.crashReady),
    `${r.restartDelayMs} ms`,
    fig(r.startReady),
    fig(r.helperRssMiB),
    fig(r.helperPssMiB),
    r.helpers ? String(r.helpers.median) : "—",
  ]);
  return markdownTable(
    [
      "Row",
      "kill -9 of main → ready again",
      "restart delay",
      "start → ready",
      "helpers' RSS MiB",
      "helpers' PSS MiB",
      "helper processes",
    ],
    body,
  );
}

/** The costs table. */
export function costTable(costs: Cost[]): string {
  return markdownTable(
    ["Cost", "ms, median (min–max) of per-round differences", "Measured as"],
    costs.map((c) => [c.text, fig(c.ms), c.how]),
  );
}

const times = (s: Summary | null | undefined) => s ? `${s.median.toFixed(2)}×` : "?";

/** The log throughput paragraph. */
export function throughputText(t: ThroughputSummary | null): string {
  if (t === null) return "Log throughput: not measured.";
  const vs = (a: Summary | null, b: Summary | null) =>
    a && b ? `${(a.median / b.median).toFixed(2)}×` : "?";
  const rows: [string, Summary | null, string][] = [
    ["LogTape → no-op sink (the ceiling, in the text daemon)", t.ceiling, "1.00×"],
    ["ctx.logger → log file, text", t.templated, times(t.textToCeiling)],
    ["LogTape → no-op sink (in the JSON daemon)", t.jsonCeiling, "1.00×"],
    ["ctx.logger → log file, JSON Lines", t.json, times(t.jsonToCeiling)],
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

/** The figures, as the report and the README show them; `h` is the heading prefix. */
export function sections(r: Results, h = "##"): string {
  return `${r.machine}

${table(r.rows)}

${h} Restart on crash

${crashTable(r.rows)}

${h} Start, phase by phase

Median (min–max) in ms; the phases' times come from the daemon's own clock (the ready file's timing
line), start returned from the driver's polling.

${phaseTable(r.rows)}

${h} Where the time goes

${costTable(r.costs)}

${h} Log throughput

${throughputText(r.log)}

${h} Targets (ratios of medians from this run)

${targetLines(r.targets)}`;
}

/** The whole report. */
export function report(r: Results): string {
  const notes = r.rows.map((row) => `- **${row.label}**: ${row.notes}`).join("\n");
  return `# Benchmark results

${sections(r)}

## What each row measures

${notes}

![start → ready and stop → gone per row](chart.svg)
`;
}

/** What the driver prints at the end. */
export function summaryText(r: Results): string {
  return sections(r, "###");
}
