// The Dashboard: totals and series from /v1/metrics over a chosen range (in the URL), in local
// time; latency charts leave empty buckets blank; live mode refreshes as calls arrive.
import { post } from "./api.js";
import { timeChart } from "./charts.js";
import { h } from "./dom.js";
import { isInternalKey, ms, num, usd } from "./format.js";
import { liveControl } from "./live.js";
import { gettingStarted } from "./onboarding.js";
import { rangeFromParams, rangeParams, rangePicker, windowOf } from "./ranges.js";
import { loadInto } from "./states.js";
import { setParams } from "./url.js";

const count = (v) => num(Math.round(v));
// Axis ticks for money: short ($0.0002), where the totals show full precision.
const usdAxis = (v) => (v === 0 ? "$0" : `$${Number(v.toPrecision(2))}`);

function card(label, value, id) {
  return h(
    "div",
    { class: "stat", "data-metric": id },
    h("div", { class: "stat-label" }, label),
    h("div", { class: "stat-value" }, value),
  );
}

function topTable(caption, head, rows, textColumns = 1) {
  return h(
    "section",
    { class: "card top-card" },
    h("h2", {}, caption),
    rows.length
      ? h(
          "div",
          { class: "table-wrap flat" },
          h(
            "table",
            { class: "data compact top" },
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                head.map((t, i) => h("th", { scope: "col", class: i >= textColumns ? "num" : "" }, t)),
              ),
            ),
            h(
              "tbody",
              {},
              rows.map((r) =>
                h(
                  "tr",
                  {},
                  r.map((c, i) =>
                    h(
                      "td",
                      { class: i >= textColumns ? "num" : "ellipsis", title: i < textColumns ? String(c) : undefined },
                      c,
                    ),
                  ),
                ),
              ),
            ),
          ),
        )
      : h("p", { class: "muted" }, "Nothing in this range."),
  );
}

async function fetchAll(range) {
  const { start, end, unit } = windowOf(range);
  const from = start || new Date(end.getTime() - 90 * 86400e3);
  const timeFilter = { start: from.toISOString(), end: end.toISOString() };
  const over = { filter: "all", timeFilter, dbIncrement: unit, timeZoneDifference: end.getTimezoneOffset() };
  const nowS = end.getTime() / 1000;
  // Every call at once, by name: the answer is an object with the same keys.
  const calls = {
    totals: post("/v1/metrics/totals", { filter: "all", timeFilter }),
    requests: post("/v1/metrics/requestOverTime", over),
    errors: post("/v1/metrics/errorOverTime", over),
    cost: post("/v1/metrics/costOverTime", over),
    latency: post("/v1/metrics/latencyOverTime", over),
    ttft: post("/v1/metrics/timeToFirstToken", over),
    tokens: post("/v1/metrics/tokensOverTime", over),
    users: post("/v1/metrics/usersOverTime", over),
    quantiles: post("/v1/metrics/quantiles", { ...over, metric: "latency" }),
    models: post("/v1/metrics/models", { filter: "all", timeFilter, limit: 5 }),
    providers: post("/v1/metrics/providers", { filter: "all", timeFilter, limit: 5 }),
    topUsers: post("/v1/user/metrics/query", {
      filter: "all",
      limit: 5,
      sort: { total_requests: "desc" },
      timeFilter: { startTimeUnixSeconds: from.getTime() / 1000, endTimeUnixSeconds: nowS },
    }),
    propKeys: post("/v1/property/query", {}),
    // Anything logged ever? An empty organization gets the getting-started snippet, not zeros.
    news: post("/v1/helioscope/requests/news", { since: "1970-01-01T00:00:00Z" }),
  };
  const d = Object.fromEntries(await Promise.all(Object.entries(calls).map(async ([k, p]) => [k, await p])));
  // The busiest values of the first few user property keys (Helicone's own keys are plumbing).
  const keys = d.propKeys
    .map((p) => p.property)
    .filter((k) => !isInternalKey(k))
    .slice(0, 3);
  const topValues = await Promise.all(
    keys.map((k) => post(`/v1/property/${encodeURIComponent(k)}/top-requests/query`, { timeFilter })),
  );
  const propRows = keys.flatMap((k, i) =>
    topValues[i]
      .filter((v) => v.value !== "Other")
      .slice(0, 3)
      .map((v) => [k, v.value || "(empty)", num(v.count)]),
  );
  return { ...d, unit, propRows, empty: d.news.count === 0 };
}

function charts(d) {
  const { unit } = d;
  // A bucket with no request has no latency: null leaves a gap instead of a fall to 0 ms.
  const busy = new Map(d.requests.map((r) => [r.time, r.count]));
  const orGap = (t, v) => (busy.get(t) ? v : null);
  const pts = (rows, pick) => rows.map((r) => ({ time: r.time, values: pick(r) }));
  return h(
    "div",
    { class: "chart-grid" },
    timeChart({
      title: "Requests",
      kind: "bar",
      integer: true,
      unit,
      series: [{ name: "v", label: "Requests", cls: "s1" }],
      points: pts(d.requests, (r) => ({ v: r.count })),
      format: count,
    }),
    timeChart({
      title: "Errors",
      kind: "bar",
      integer: true,
      unit,
      series: [{ name: "v", label: "Errors", cls: "s-bad" }],
      points: pts(d.errors, (r) => ({ v: r.count })),
      format: count,
    }),
    timeChart({
      title: "Cost",
      kind: "bar",
      unit,
      series: [{ name: "v", label: "Cost", cls: "s2" }],
      points: pts(d.cost, (r) => ({ v: r.cost })),
      format: usd,
      axis: usdAxis,
    }),
    timeChart({
      title: "Tokens",
      kind: "bar",
      integer: true,
      unit,
      series: [
        { name: "p", label: "Prompt", cls: "s1" },
        { name: "c", label: "Completion", cls: "s3" },
      ],
      points: pts(d.tokens, (r) => ({ p: r.prompt_tokens, c: r.completion_tokens })),
      format: count,
    }),
    timeChart({
      title: "Average latency",
      unit,
      series: [{ name: "v", label: "Latency", cls: "s1" }],
      points: pts(d.latency, (r) => ({ v: orGap(r.time, r.duration) })),
      format: ms,
    }),
    timeChart({
      title: "Latency p95 / p99",
      unit,
      series: [
        { name: "p95", label: "p95", cls: "s2" },
        { name: "p99", label: "p99", cls: "s3" },
      ],
      points: pts(d.quantiles, (r) => ({ p95: orGap(r.time, r.p95), p99: orGap(r.time, r.p99) })),
      format: ms,
    }),
    timeChart({
      title: "Average time to first token",
      unit,
      series: [{ name: "v", label: "TTFT", cls: "s3" }],
      points: pts(d.ttft, (r) => ({ v: orGap(r.time, r.ttft) })),
      format: ms,
    }),
    // A user active in two buckets counts in both, so the bars have no meaningful sum.
    timeChart({
      title: "Active users",
      kind: "bar",
      integer: true,
      total: false,
      unit,
      series: [{ name: "v", label: "Users", cls: "s2" }],
      points: pts(d.users, (r) => ({ v: r.count })),
      format: count,
    }),
  );
}

function render(body, d) {
  if (d.empty) {
    body.append(gettingStarted());
    return;
  }
  const t = d.totals;
  body.append(
    h(
      "div",
      { class: "stats" },
      card("Requests", num(t.total_requests), "requests"),
      card("Cost", usd(t.total_cost), "cost"),
      card("Errors", num(t.total_errors), "errors"),
      card("Avg latency", t.total_requests ? ms(t.average_latency) : "–", "latency"),
      card("Avg time to first token", t.total_requests ? ms(t.average_time_to_first_token) : "–", "ttft"),
      card(
        "Avg tokens / request",
        num(Math.round(t.average_tokens_per_request.average_total_tokens_per_response)),
        "tokens",
      ),
      card("Active users", num(t.active_users), "users"),
      card("Threats", num(t.total_threats), "threats"),
    ),
    charts(d),
    h(
      "div",
      { class: "chart-grid tops" },
      topTable(
        "Top models",
        ["Model", "Requests", "Tokens", "Cost"],
        d.models.map((m) => [m.model || "(none)", num(m.total_requests), num(m.total_tokens), usd(m.cost)]),
      ),
      topTable(
        "Providers",
        ["Provider", "Requests", "Errors", "Cost"],
        d.providers.map((p) => [p.key, num(p.total_requests), num(p.errors), usd(p.cost)]),
      ),
      topTable(
        "Top users",
        ["User", "Requests", "Tokens", "Cost"],
        d.topUsers.users.map((u) => [
          u.user_id,
          num(u.total_requests),
          num(u.total_prompt_tokens + u.total_completion_tokens),
          usd(u.cost),
        ]),
      ),
      topTable("Top properties", ["Property", "Value", "Requests"], d.propRows, 2),
    ),
  );
}

export async function renderDashboard(main, { params, signal }) {
  const state = { range: rangeFromParams(params, "24h") };
  const body = h("div", { id: "dash-body" });
  const load = ({ quiet = false } = {}) => {
    setParams({ ...rangeParams(state.range), r: state.range.range === "24h" ? "" : state.range.range });
    return loadInto(
      body,
      () => fetchAll(state.range),
      (d) => render(body, d),
      { quiet },
    );
  };
  const live = liveControl({
    signal,
    on: params.get("live") === "1",
    onToggle: (on) => setParams({ live: on ? "1" : "" }),
    filter: () => "all",
    refresh: () => load({ quiet: true }),
    paused: () => String(getSelection()).length > 0,
  });
  main.append(
    h(
      "div",
      { class: "page-head" },
      h("h1", {}, "Dashboard"),
      h(
        "div",
        { class: "toolbar" },
        rangePicker({
          id: "dash-range",
          state: state.range,
          allowAll: false,
          onChange: (range) => {
            state.range = range;
            load();
          },
        }),
        live.element,
      ),
    ),
    body,
  );
  await load();
  return { teardown: live.stop };
}
