// The Dashboard: totals and series from /v1/metrics over a chosen range, in local time.
import { post } from "./api.js";
import { currentKey } from "./auth.js";
import { clear, h } from "./dom.js";
import { timeChart } from "./charts.js";
import { ms, num, usd } from "./format.js";

export const RANGES = [
  ["1h", "Last hour", 3600e3, "min"],
  ["24h", "Last 24 hours", 86400e3, "hour"],
  ["7d", "Last 7 days", 7 * 86400e3, "hour"],
  ["30d", "Last 30 days", 30 * 86400e3, "day"],
  ["90d", "Last 90 days", 90 * 86400e3, "day"],
];

const chosen = new Map();
const count = (v) => num(Math.round(v));
// Axis ticks for money: short ($0.0002), where the totals show full precision.
const usdAxis = (v) => (v === 0 ? "$0" : `$${Number(v.toPrecision(2))}`);

function card(label, value, id) {
  return h("div", { class: "stat", "data-metric": id }, h("div", { class: "stat-label" }, label), h("div", { class: "stat-value" }, value));
}

function topTable(caption, head, rows, textColumns = 1) {
  return h(
    "section",
    { class: "card" },
    h("h2", {}, caption),
    rows.length
      ? h(
          "table",
          { class: "data compact" },
          h("thead", {}, h("tr", {}, head.map((t, i) => h("th", { scope: "col", class: i >= textColumns ? "num" : "" }, t)))),
          h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c, i) => h("td", { class: i >= textColumns ? "num" : "" }, c))))),
        )
      : h("p", { class: "muted" }, "Nothing in this range."),
  );
}

export async function renderDashboard(main) {
  const key = currentKey().key;
  const rangeId = chosen.get(key) || "24h";
  const range = h(
    "select",
    { id: "dash-range", onchange: (e) => { chosen.set(key, e.target.value); load(); } },
    RANGES.map(([id, label]) => h("option", { value: id, selected: id === rangeId }, label)),
  );
  const body = h("div", { id: "dash-body", "aria-busy": "true" }, h("p", { class: "muted" }, "Loading…"));
  main.append(
    h("div", { class: "page-head" }, h("h1", {}, "Dashboard"), h("div", { class: "toolbar" }, h("label", { for: "dash-range" }, "Time range "), range)),
    body,
  );

  async function load() {
    const [, , span, unit] = RANGES.find(([id]) => id === range.value);
    const end = new Date();
    const start = new Date(end.getTime() - span);
    const timeFilter = { start: start.toISOString(), end: end.toISOString() };
    const over = { filter: "all", timeFilter, dbIncrement: unit, timeZoneDifference: end.getTimezoneOffset() };
    body.setAttribute("aria-busy", "true");
    try {
      const nowS = end.getTime() / 1000;
      const [totals, requests, errors, cost, latency, ttft, tokens, users, models, providers, topUsers, propKeys] = await Promise.all([
        post("/v1/metrics/totals", { filter: "all", timeFilter }),
        post("/v1/metrics/requestOverTime", over),
        post("/v1/metrics/errorOverTime", over),
        post("/v1/metrics/costOverTime", over),
        post("/v1/metrics/latencyOverTime", over),
        post("/v1/metrics/timeToFirstToken", over),
        post("/v1/metrics/tokensOverTime", over),
        post("/v1/metrics/usersOverTime", over),
        post("/v1/metrics/models", { filter: "all", timeFilter, limit: 5 }),
        post("/v1/metrics/providers", { filter: "all", timeFilter, limit: 5 }),
        post("/v1/user/metrics/query", { filter: "all", limit: 5, sort: { total_requests: "desc" }, timeFilter: { startTimeUnixSeconds: nowS - span / 1000, endTimeUnixSeconds: nowS } }),
        post("/v1/property/query", {}),
      ]);
      // The busiest values of the first few property keys (session keys are shown on Sessions).
      const keys = propKeys.map((p) => p.property).filter((k) => !k.startsWith("Helicone-")).slice(0, 3);
      const topValues = await Promise.all(keys.map((k) => post(`/v1/property/${encodeURIComponent(k)}/top-requests/query`, { timeFilter })));
      const propRows = keys.flatMap((k, i) => topValues[i].filter((v) => v.value !== "Other").slice(0, 3).map((v) => [k, v.value || "(empty)", num(v.count)]));
      const pts = (rows, pick) => rows.map((r) => ({ time: r.time, values: pick(r) }));
      clear(body).append(
        h(
          "div",
          { class: "stats" },
          card("Requests", num(totals.total_requests), "requests"),
          card("Cost", usd(totals.total_cost), "cost"),
          card("Errors", num(totals.total_errors), "errors"),
          card("Avg latency", ms(totals.average_latency), "latency"),
          card("Avg time to first token", ms(totals.average_time_to_first_token), "ttft"),
          card("Avg tokens / request", num(Math.round(totals.average_tokens_per_request.average_total_tokens_per_response)), "tokens"),
          card("Active users", num(totals.active_users), "users"),
          card("Threats", num(totals.total_threats), "threats"),
        ),
        h(
          "div",
          { class: "chart-grid" },
          timeChart({ title: "Requests", kind: "bar", integer: true, unit, series: [{ name: "v", label: "Requests", cls: "s1" }], points: pts(requests, (r) => ({ v: r.count })), format: count }),
          timeChart({ title: "Errors", kind: "bar", integer: true, unit, series: [{ name: "v", label: "Errors", cls: "s-bad" }], points: pts(errors, (r) => ({ v: r.count })), format: count }),
          timeChart({ title: "Cost", kind: "bar", unit, series: [{ name: "v", label: "Cost", cls: "s2" }], points: pts(cost, (r) => ({ v: r.cost })), format: usd, axis: usdAxis }),
          timeChart({
            title: "Tokens",
            kind: "bar",
            integer: true,
            unit,
            series: [
              { name: "p", label: "Prompt", cls: "s1" },
              { name: "c", label: "Completion", cls: "s3" },
            ],
            points: pts(tokens, (r) => ({ p: r.prompt_tokens, c: r.completion_tokens })),
            format: count,
          }),
          timeChart({ title: "Average latency", unit, series: [{ name: "v", label: "Latency", cls: "s1" }], points: pts(latency, (r) => ({ v: r.duration })), format: ms }),
          timeChart({ title: "Average time to first token", unit, series: [{ name: "v", label: "TTFT", cls: "s3" }], points: pts(ttft, (r) => ({ v: r.ttft })), format: ms }),
          // A user active in two buckets counts in both, so the bars have no meaningful sum.
          timeChart({ title: "Active users", kind: "bar", integer: true, total: false, unit, series: [{ name: "v", label: "Users", cls: "s2" }], points: pts(users, (r) => ({ v: r.count })), format: count }),
        ),
        h(
          "div",
          { class: "chart-grid" },
          topTable("Top models", ["Model", "Requests", "Tokens", "Cost"], models.map((m) => [m.model || "(none)", num(m.total_requests), num(m.total_tokens), usd(m.cost)])),
          topTable("Providers", ["Provider", "Requests", "Errors", "Cost"], providers.map((p) => [p.key, num(p.total_requests), num(p.errors), usd(p.cost)])),
          topTable("Top users", ["User", "Requests", "Tokens", "Cost"], topUsers.users.map((u) => [u.user_id, num(u.total_requests), num(u.total_prompt_tokens + u.total_completion_tokens), usd(u.cost)])),
          topTable("Top properties", ["Property", "Value", "Requests"], propRows, 2),
        ),
      );
    } catch (err) {
      clear(body).append(h("p", { class: "form-error", role: "alert" }, err.message));
    } finally {
      body.setAttribute("aria-busy", "false");
    }
  }
  await load();
}
