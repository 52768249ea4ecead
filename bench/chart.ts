// A grouped horizontal bar chart, written as SVG by hand: per row, the median
// start → ready and stop → gone with min–max whiskers. Bars far beyond the
// rest are cut at the axis end, marked with a break, and labelled.

import type { Summary } from "./_stats.ts";

/** One group of bars. */
export interface ChartRow {
  label: string;
  start: Summary | null;
  stop: Summary | null;
  /** Shown after the label, e.g. "(boot to exit)". */
  startNote?: string;
}

const WIDTH = 960;
const LEFT = 330;
const RIGHT = 90;
const TOP = 70;
const BAR = 12;
const GROUP = 2 * BAR + 14;
const COLORS = { start: "#4c78a8", stop: "#f58518" };

function esc(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}

function niceCeil(v: number): number {
  const step = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * step >= v) return m * step;
  return 10 * step;
}

// The axis ends just past the largest median that is not an outlier (more
// than 4× the median of all medians), so the fast rows stay readable.
function axisMax(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted[sorted.length >> 1];
  const inliers = sorted.filter((v) => v <= 4 * mid);
  return niceCeil(1.1 * Math.max(...inliers, ...sorted.map((v) => v / 20)));
}

/** Renders the chart. */
export function renderChart(rows: ChartRow[], title: string, subtitle: string): string {
  const medians = rows.flatMap((r) => [r.start, r.stop]).filter((s): s is Summary => s !== null)
    .map((s) => s.median);
  const max = medians.length === 0 ? 100 : axisMax(medians);
  const plot = WIDTH - LEFT - RIGHT;
  const height = TOP + rows.length * GROUP + 50;
  const x = (v: number) => LEFT + Math.min(v, max) / max * plot;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" ` +
    `viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${LEFT}" y="22" font-size="15" font-weight="bold">${esc(title)}</text>`,
    `<text x="${LEFT}" y="40" fill="#555">${esc(subtitle)}</text>`,
  ];
  let lx = LEFT;
  for (const [key, name] of [["start", "start → ready"], ["stop", "stop → gone"]] as const) {
    out.push(`<rect x="${lx}" y="50" width="12" height="12" fill="${COLORS[key]}"/>`);
    out.push(`<text x="${lx + 16}" y="60">${name} (median, min–max)</text>`);
    lx += 250;
  }
  const bottom = TOP + rows.length * GROUP;
  const step = niceCeil(max / 6);
  for (let t = 0; t <= max + 1e-9; t += step) {
    out.push(
      `<line x1="${x(t)}" y1="${TOP - 4}" x2="${x(t)}" y2="${bottom}" stroke="#e4e4e4"/>`,
      `<text x="${x(t)}" y="${bottom + 16}" text-anchor="middle" fill="#555">${t}</text>`,
    );
  }
  out.push(
    `<text x="${LEFT + plot / 2}" y="${bottom + 34}" text-anchor="middle" fill="#555">ms</text>`,
  );
  rows.forEach((row, i) => {
    const y0 = TOP + i * GROUP;
    const label = row.label.replaceAll("`", "") + (row.startNote ? ` ${row.startNote}` : "");
    out.push(
      `<text x="${LEFT - 8}" y="${y0 + BAR + 4}" text-anchor="end">${esc(label)}</text>`,
    );
    for (const [j, key] of (["start", "stop"] as const).entries()) {
      const s = row[key];
      const y = y0 + j * BAR;
      if (s === null) continue;
      const end = x(s.median);
      out.push(
        `<rect x="${LEFT}" y="${y}" width="${(end - LEFT).toFixed(1)}" height="${BAR - 2}" ` +
          `fill="${COLORS[key]}"/>`,
      );
      const wy = y + (BAR - 2) / 2;
      out.push(
        `<line x1="${x(s.min).toFixed(1)}" y1="${wy}" x2="${x(s.max).toFixed(1)}" y2="${wy}" ` +
          `stroke="#333"/>`,
      );
      if (s.median > max) {
        // The bar is cut: two white strokes mark the break.
        for (const dx of [-26, -20]) {
          out.push(
            `<line x1="${end + dx}" y1="${y + BAR}" x2="${end + dx + 6}" y2="${y - 2}" ` +
              `stroke="#fff" stroke-width="3"/>`,
          );
        }
      }
      const text = `${s.median.toFixed(s.median >= 100 ? 0 : 1)} ms`;
      out.push(
        `<text x="${Math.max(end, x(s.max)) + 4}" y="${y + BAR - 2}" fill="#333">${text}</text>`,
      );
    }
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}
