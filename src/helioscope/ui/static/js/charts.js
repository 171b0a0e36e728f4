// Hand-drawn SVG charts (no library): bars or a line over time buckets, with a data table
// for screen readers and a <title> tooltip on every point.
import { h, svg } from "./dom.js";

const W = 560;
const H = 190;
const PAD = { l: 62, r: 12, t: 10, b: 26 };
const TICKS = 4;

// The axis top: four equal steps of 1, 2 or 5 × 10^k, so every tick label is a round number;
// counts never get fractional steps.
function niceMax(v, integer) {
  if (v <= 0) return TICKS;
  const raw = v / TICKS;
  const p = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 5, 10].map((m) => m * p).find((m) => m >= raw);
  if (integer) step = Math.max(1, Math.ceil(step));
  return step * TICKS;
}

function axisText(v, format) {
  // Round away float noise (0.1 + 0.2) before formatting a tick.
  return format(Number(v.toPrecision(6)));
}

function tickLabel(date, unit, spanMs) {
  const clock = { hour: "2-digit", minute: "2-digit" };
  const day = { month: "short", day: "numeric" };
  // Minutes and hours within a day and a half show the clock; anything longer shows days.
  const opts = unit === "min" || (unit === "hour" && spanMs <= 36 * 3600e3) ? clock : day;
  return new Intl.DateTimeFormat(undefined, opts).format(date);
}

// At most six labels, never two alike side by side: hourly buckets over several days are
// labelled at midnight only.
function tickIndexes(points, unit, spanMs) {
  let candidates = points.map((_, i) => i);
  if (unit === "hour" && spanMs > 36 * 3600e3) {
    candidates = candidates.filter((i) => new Date(points[i].time).getHours() === 0);
  }
  const step = Math.max(1, Math.ceil(candidates.length / 6));
  return candidates.filter((_, k) => k % step === 0);
}

/**
 * points: [{time: ISO, values: {name: number}}]; series: [{name, label, cls}]
 * kind: "bar" (stacked) or "line".
 */
export function timeChart({
  title,
  points,
  series,
  kind = "line",
  format = String,
  axis,
  unit = "hour",
  integer = false,
  total = kind === "bar",
}) {
  const plotW = W - PAD.l - PAD.r;
  const plotH = H - PAD.t - PAD.b;
  const totals = points.map((p) =>
    kind === "bar"
      ? series.reduce((s, se) => s + (p.values[se.name] || 0), 0)
      : Math.max(0, ...series.map((se) => p.values[se.name] || 0)),
  );
  const max = niceMax(Math.max(0, ...totals), integer);
  const x = (i) => PAD.l + (points.length <= 1 ? plotW / 2 : (i * plotW) / (points.length - 1));
  const y = (v) => PAD.t + plotH - (v / max) * plotH;
  const sum = totals.reduce((a, b) => a + b, 0);
  const chart = svg("svg", {
    viewBox: `0 0 ${W} ${H}`,
    class: `chart chart-${kind}`,
    role: "img",
    "aria-label": `${title}: ${points.length} points`,
  });
  for (let i = 0; i <= TICKS; i += 1) {
    const v = (max * i) / TICKS;
    chart.append(
      svg("line", { x1: PAD.l, x2: W - PAD.r, y1: y(v), y2: y(v), class: "grid" }),
      svg("text", { x: PAD.l - 6, y: y(v) + 4, class: "axis", "text-anchor": "end" }, axisText(v, axis || format)),
    );
  }
  const spanMs = points.length ? new Date(points[points.length - 1].time) - new Date(points[0].time) : 0;
  for (const i of tickIndexes(points, unit, spanMs)) {
    const label = tickLabel(new Date(points[i].time), unit, spanMs);
    chart.append(svg("text", { x: x(i), y: H - 8, class: "axis", "text-anchor": "middle" }, label));
  }
  if (kind === "bar") {
    const bw = Math.max(1, (plotW / Math.max(points.length, 1)) * 0.7);
    points.forEach((p, i) => {
      let base = 0;
      for (const se of series) {
        const v = p.values[se.name] || 0;
        if (v > 0) {
          chart.append(
            svg(
              "rect",
              {
                x: x(i) - bw / 2,
                y: y(base + v),
                width: bw,
                height: Math.max(0.5, y(base) - y(base + v)),
                class: `series ${se.cls || ""}`,
              },
              svg("title", {}, `${new Date(p.time).toLocaleString()} · ${se.label}: ${format(v)}`),
            ),
          );
        }
        base += v;
      }
    });
  } else {
    // A bucket without data (null) is a gap in the line, not a fall to zero.
    for (const se of series) {
      let pen = "M";
      const d = points
        .map((p, i) => {
          const v = p.values[se.name];
          if (v === null || v === undefined) {
            pen = "M";
            return "";
          }
          const step = `${pen}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
          pen = "L";
          return step;
        })
        .join(" ");
      chart.append(svg("path", { d, class: `series-line ${se.cls || ""}` }));
      points.forEach((p, i) => {
        if (p.values[se.name] === null || p.values[se.name] === undefined) return;
        chart.append(
          svg(
            "circle",
            {
              cx: x(i),
              cy: y(p.values[se.name] || 0),
              r: points.length > 60 ? 1.5 : 2.5,
              class: `series-dot ${se.cls || ""}`,
            },
            svg("title", {}, `${new Date(p.time).toLocaleString()} · ${se.label}: ${format(p.values[se.name] || 0)}`),
          ),
        );
      });
    }
  }
  const legend =
    series.length > 1
      ? h(
          "div",
          { class: "legend" },
          series.map((se) =>
            h("span", {}, h("span", { class: `swatch ${se.cls || ""}`, "aria-hidden": "true" }), se.label),
          ),
        )
      : "";
  // Wrapped: a table ignores height and overflow, so it cannot be hidden by its own box.
  const table = h(
    "div",
    { class: "visually-hidden" },
    h(
      "table",
      {},
      h("caption", {}, title),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h("th", {}, "Time"),
          series.map((se) => h("th", {}, se.label)),
        ),
      ),
      h(
        "tbody",
        {},
        points.map((p) =>
          h(
            "tr",
            {},
            h("td", {}, new Date(p.time).toLocaleString()),
            series.map((se) => h("td", {}, p.values[se.name] === null ? "no data" : format(p.values[se.name] || 0))),
          ),
        ),
      ),
    ),
  );
  return h(
    "figure",
    { class: "card chart-card" },
    h("figcaption", {}, h("span", {}, title), total ? h("span", { class: "muted" }, format(sum)) : ""),
    chart,
    legend,
    table,
  );
}

/** A histogram of {range_start, range_end, value} buckets, with its average in the caption. */
export function histogram({ title, buckets, average, format = String }) {
  const w = 360;
  const hgt = 120;
  const pad = { l: 8, r: 8, t: 8, b: 22 };
  const max = Math.max(1, ...buckets.map((b) => b.value));
  const bw = (w - pad.l - pad.r) / Math.max(buckets.length, 1);
  const chart = svg("svg", {
    viewBox: `0 0 ${w} ${hgt}`,
    class: "chart histogram",
    role: "img",
    "aria-label": `${title}: ${buckets.length} buckets`,
  });
  buckets.forEach((b, i) => {
    const bh = ((hgt - pad.t - pad.b) * b.value) / max;
    const x = pad.l + i * bw;
    chart.append(
      svg(
        "rect",
        {
          x: x + 1,
          y: hgt - pad.b - bh,
          width: Math.max(1, bw - 2),
          height: Math.max(b.value ? 1 : 0, bh),
          class: "series",
        },
        svg("title", {}, `${format(Number(b.range_start))} – ${format(Number(b.range_end))}: ${b.value}`),
      ),
    );
  });
  if (buckets.length) {
    chart.append(
      svg("text", { x: pad.l, y: hgt - 6, class: "axis" }, format(Number(buckets[0].range_start))),
      svg(
        "text",
        { x: w - pad.r, y: hgt - 6, class: "axis", "text-anchor": "end" },
        format(Number(buckets[buckets.length - 1].range_end)),
      ),
    );
  }
  return h(
    "figure",
    { class: "card chart-card" },
    h("figcaption", {}, h("span", {}, title), h("span", { class: "muted" }, `average ${format(average)}`)),
    buckets.length ? chart : h("p", { class: "muted" }, "No sessions."),
  );
}
