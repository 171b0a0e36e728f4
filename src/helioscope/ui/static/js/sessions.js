// Sessions: the list (totals, errors, sorting, live), and one session as a trace: one row per
// span, indented by its path, its bar on a shared timeline to the right, and the selected
// span's detail beside it (#/sessions/<id>?span=<request id>).
import { get, post } from "./api.js";
import { histogram } from "./charts.js";
import { requestDetail } from "./detail.js";
import { h } from "./dom.js";
import { ms, num, statusClass, time, usd } from "./format.js";
import { listPage } from "./listpage.js";
import { liveControl } from "./live.js";
import { windowOf } from "./ranges.js";
import { errorState, loading } from "./states.js";
import { hashOf, parseHash, setParams } from "./url.js";

const COLUMNS = [
  {
    id: "name",
    title: "Name",
    sort: "session_name",
    cell: (s) => s.session_name || h("span", { class: "muted" }, "(unnamed)"),
  },
  { id: "id", title: "Session id", sort: "session_id", cell: (s) => h("code", {}, s.session_id) },
  { id: "created", title: "Started", sort: "created_at", cell: (s) => time(s.created_at) },
  {
    id: "latest",
    title: "Last request",
    sort: "latest_request_created_at",
    cell: (s) => time(s.latest_request_created_at),
  },
  { id: "requests", title: "Requests", sort: "total_requests", num: true, cell: (s) => num(s.total_requests) },
  {
    id: "errors",
    title: "Errors",
    num: true,
    cell: (s) => (s.error_count ? h("span", { class: "status bad" }, num(s.error_count)) : "0"),
  },
  { id: "tokens", title: "Tokens", sort: "total_tokens", num: true, cell: (s) => num(s.total_tokens) },
  { id: "cost", title: "Cost", sort: "total_cost", num: true, cell: (s) => usd(s.total_cost) },
  { id: "latency", title: "Avg latency", sort: "avg_latency", num: true, cell: (s) => ms(s.avg_latency) },
  { id: "users", title: "Users", cell: (s) => (s.user_ids || []).join(", ") || "–" },
];

let newestMetrics = 0; // the charts of the newest search, range or page, whichever answers last

function metricsCharts(charts, state) {
  const mine = ++newestMetrics;
  const { start, end } = windowOf(state.range);
  const timeFilter = start ? { startTimeUnixMs: start.getTime(), endTimeUnixMs: end.getTime() } : undefined;
  // The histograms are a summary; a failure there should not hide the list. Helicone's route
  // answers the histograms only; ours adds their averages.
  // The list's own search (name or id), so the charts describe the sessions listed.
  post("/v1/helioscope/sessions/metrics", {
    search: state.search,
    filter: "all",
    timezoneDifference: 0,
    ...(timeFilter ? { timeFilter } : {}),
  })
    .then((m) => {
      if (mine !== newestMetrics) return;
      const avg = (name) => (m.session_count.length ? (m.average?.[name]?.[0]?.average ?? 0) : 0);
      charts.replaceChildren(
        histogram({
          title: "Requests per session",
          buckets: m.session_count,
          average: avg("session_count"),
          format: (v) => num(Math.round(v * 10) / 10),
        }),
        histogram({
          title: "Session duration",
          buckets: m.session_duration,
          average: avg("session_duration"),
          format: (v) => ms(v * 1000),
        }),
        histogram({ title: "Session cost", buckets: m.session_cost, average: avg("session_cost"), format: usd }),
      );
    })
    .catch(() => mine === newestMetrics && charts.replaceChildren());
}

export async function renderSessions(main, { params, signal }) {
  const charts = h("div", { class: "chart-grid", id: "session-metrics" });
  let page = null;
  const live = liveControl({
    signal,
    on: params.get("live") === "1",
    onToggle: (on) => setParams({ live: on ? "1" : "" }),
    filter: () => ({ request_response_rmt: { properties: { "Helicone-Session-Id": { "not-equals": "" } } } }),
    refresh: () => page.load({ quiet: true }),
    paused: () => page.state.offset > 0 || window.scrollY > 40 || String(getSelection()).length > 0,
  });
  page = listPage(main, params, {
    id: "session",
    title: "Sessions",
    searchLabel: "Search sessions",
    placeholder: "name or id",
    columns: COLUMNS,
    defaultSort: { created_at: "desc" },
    defaultRange: "all",
    toolbar: live.element,
    above: charts,
    fetch: async (state) => {
      metricsCharts(charts, state);
      const { start, end } = windowOf(state.range);
      const body = {
        search: state.search,
        sort: state.sort,
        offset: state.offset,
        limit: state.limit,
        ...(start ? { start: start.toISOString(), end: end.toISOString() } : {}),
      };
      const found = await post("/v1/helioscope/sessions/query", body);
      const empty = state.search
        ? "No session matches this search."
        : "No sessions yet. Send requests with a Helicone-Session-Id header (and -Path, -Name) to group them.";
      return { rows: found.sessions, total: found.total, empty };
    },
    onOpen: (s) => {
      location.hash = hashOf(["sessions", s.session_id]);
    },
    rowLabel: (s) => `Session ${s.session_name || ""} ${s.session_id}`,
  });
  await page.load();
  return { teardown: live.stop };
}

// Spans in trace order: depth-first over the path tree, each path's requests in time order;
// a path with no request of its own still gets a row, grouping its children.
export function traceRows(requests, sessionName) {
  const root = { name: sessionName || "Session", path: "/", children: new Map(), requests: [] };
  for (const r of requests) {
    const path = r.properties?.["Helicone-Session-Path"] || "/";
    let node = root;
    let at = "";
    for (const seg of path.split("/").filter(Boolean)) {
      at += `/${seg}`;
      if (!node.children.has(seg)) node.children.set(seg, { name: seg, path: at, children: new Map(), requests: [] });
      node = node.children.get(seg);
    }
    node.requests.push(r);
  }
  const rows = [];
  const walk = (node, depth) => {
    const spans = [...node.requests].sort((a, b) => a.request_created_at.localeCompare(b.request_created_at));
    if (spans.length) for (const r of spans) rows.push({ depth, name: node.name, path: node.path, request: r });
    else rows.push({ depth, name: node.name, path: node.path, group: node });
    for (const child of node.children.values()) walk(child, depth + 1);
  };
  walk(root, 0);
  return rows;
}

function extent(node) {
  return [...node.requests, ...[...node.children.values()].flatMap(extent)];
}

function traceTable(rows, t0, span, selected, onSelect) {
  const bar = (start, dur, cls) => {
    const el = h("span", { class: `trace-bar ${cls}` });
    el.style.left = `${((start - t0) / span) * 100}%`;
    el.style.width = `${Math.max(0.4, (dur / span) * 100)}%`;
    return el;
  };
  const body = rows.map((row) => {
    const indent = h("span", { class: "trace-indent", "aria-hidden": "true" });
    indent.style.width = `${row.depth * 1.1}rem`;
    if (row.group) {
      const inside = extent(row.group);
      const s = Math.min(...inside.map((r) => new Date(r.request_created_at).getTime()));
      const e = Math.max(...inside.map((r) => new Date(r.request_created_at).getTime() + (r.delay_ms || 0)));
      return h(
        "tr",
        { class: "trace-group" },
        h(
          "th",
          { scope: "row" },
          indent,
          h("span", { class: "trace-name" }, row.name),
          h("span", { class: "muted small" }, ` · ${inside.length} requests`),
        ),
        h("td", { class: "trace-cell" }, h("span", { class: "trace-track" }, bar(s, e - s, "group"))),
        h("td", { class: "num" }, ms(e - s)),
      );
    }
    const r = row.request;
    const start = new Date(r.request_created_at).getTime();
    const tr = h(
      "tr",
      {
        class: "clickable",
        tabindex: "0",
        "data-id": r.request_id,
        "aria-current": String(r.request_id === selected),
        "aria-label": `${row.path} ${r.model}, ${ms(r.delay_ms)}, status ${r.response_status}`,
        onclick: () => onSelect(r.request_id),
        onkeydown: (e) => {
          if (e.key === "Enter" || e.key === " ") {
            e.preventDefault();
            onSelect(r.request_id);
          } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
            e.preventDefault();
            const sibling = e.key === "ArrowDown" ? tr.nextElementSibling : tr.previousElementSibling;
            sibling?.focus();
          }
        },
      },
      h(
        "th",
        { scope: "row" },
        indent,
        h("span", { class: `dot ${statusClass(r.response_status)}`, "aria-hidden": "true" }),
        h("span", { class: "trace-name" }, row.name),
        h("span", { class: "muted small" }, ` ${r.model || ""}`),
      ),
      h(
        "td",
        { class: "trace-cell" },
        h("span", { class: "trace-track" }, bar(start, r.delay_ms || 0, statusClass(r.response_status))),
      ),
      h("td", { class: "num" }, ms(r.delay_ms)),
    );
    return tr;
  });
  return h(
    "div",
    { class: "table-wrap trace-wrap" },
    h(
      "table",
      { class: "data trace", id: "trace" },
      h("caption", { class: "visually-hidden" }, "Trace: one row per span, with its time on a shared timeline"),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h("th", { scope: "col" }, "Span"),
          h("th", { scope: "col" }, `Timeline (0 – ${ms(span)})`),
          h("th", { scope: "col", class: "num" }, "Latency"),
        ),
      ),
      h("tbody", {}, body),
    ),
  );
}

function sessionStats(data, requests, t0, t1) {
  const stat = (label, value) =>
    h("div", { class: "stat" }, h("div", { class: "stat-label" }, label), h("div", { class: "stat-value" }, value));
  const errors = requests.filter((r) => statusClass(r.response_status) === "bad").length;
  return h(
    "div",
    { class: "stats" },
    stat("Name", data.session_names.join(", ") || "(unnamed)"),
    stat("Requests", num(requests.length)),
    stat("Errors", num(errors)),
    stat("Cost", usd(requests.reduce((s, r) => s + (r.cost || 0), 0))),
    stat("Tokens", num(requests.reduce((s, r) => s + (r.total_tokens || 0), 0))),
    stat("Duration", ms(t1 - t0)),
    stat("Started", time(requests[0].request_created_at)),
  );
}

export async function renderSession(main, { parts, params }) {
  const id = parts[0];
  main.append(
    h("p", {}, h("a", { href: "#/sessions" }, "← All sessions")),
    h("div", { class: "page-head" }, h("h1", {}, "Session ", h("code", {}, id))),
  );
  const body = h("div", {});
  main.append(body);
  loading(body);
  let data;
  try {
    data = await get(`/v1/helioscope/sessions/${encodeURIComponent(id)}`);
  } catch (err) {
    body.setAttribute("aria-busy", "false");
    body.replaceChildren(errorState(err, () => renderSession(main.replaceChildren() || main, { parts, params })));
    return undefined;
  }
  const requests = data.requests;
  const rows = traceRows(requests, data.session_names[0]);
  const t0 = Math.min(...requests.map((r) => new Date(r.request_created_at).getTime()));
  const t1 = Math.max(...requests.map((r) => new Date(r.request_created_at).getTime() + (r.delay_ms || 0)));
  const span = Math.max(1, t1 - t0);
  const pane = h("aside", { class: "detail-pane", "aria-labelledby": "pane-title", hidden: true });
  const traceBox = h("section", { class: "trace-box", "aria-label": "Trace" });
  const split = h("div", { class: "split" }, traceBox, pane);
  const spans = rows.filter((r) => r.request);
  let selected = params.get("span");
  const select = (rid, { push = true } = {}) => {
    selected = rid;
    setParams({ span: rid }, { push: push && !parseHash().params.get("span") });
    show();
  };
  const close = () => {
    selected = null;
    setParams({ span: "" });
    show();
  };
  function show() {
    traceBox.replaceChildren(traceTable(rows, t0, span, selected, (rid) => select(rid)));
    const at = spans.findIndex((r) => r.request.request_id === selected);
    pane.hidden = at < 0;
    split.classList.toggle("with-pane", at >= 0);
    if (at < 0) return;
    pane.replaceChildren(
      requestDetail(spans[at].request, {
        onClose: close,
        onPrev: at > 0 ? () => select(spans[at - 1].request.request_id, { push: false }) : null,
        onNext: at < spans.length - 1 ? () => select(spans[at + 1].request.request_id, { push: false }) : null,
        position: `${at + 1} of ${spans.length}`,
      }),
    );
  }
  const onKey = (e) => {
    // As on Requests: Ctrl/Alt/Meta+J or K are the browser's shortcuts, not the page's.
    if (!selected || e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.target.closest?.("input, textarea, select, [contenteditable]")) return;
    const at = spans.findIndex((r) => r.request.request_id === selected);
    if (e.key === "j" && spans[at + 1]) select(spans[at + 1].request.request_id, { push: false });
    else if (e.key === "k" && at > 0) select(spans[at - 1].request.request_id, { push: false });
    else if (e.key === "Escape") close();
  };
  document.addEventListener("keydown", onKey);
  body.setAttribute("aria-busy", "false");
  body.replaceChildren(
    sessionStats(data, requests, t0, t1),
    data.truncated ? h("p", { class: "muted" }, `Showing the first ${num(requests.length)} requests.`) : "",
    split,
  );
  show();
  return {
    teardown: () => document.removeEventListener("keydown", onKey),
    update: (ctx) => {
      if (ctx.parts[0] !== id) return false;
      selected = ctx.params.get("span");
      show();
      return true;
    },
  };
}
