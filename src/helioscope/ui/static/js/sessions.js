// Sessions: the list with totals and search, and one session's trace tree and waterfall.
import { post } from "./api.js";
import { currentKey } from "./auth.js";
import { clear, h, svg } from "./dom.js";
import { openDrawer } from "./drawer.js";
import { ms, num, statusClass, time, usd } from "./format.js";
import { dataTable, pager } from "./table.js";
import { histogram } from "./charts.js";

const RANGES = [
  ["all", "All time", null],
  ["1h", "Last hour", 3600e3],
  ["24h", "Last 24 hours", 86400e3],
  ["7d", "Last 7 days", 7 * 86400e3],
  ["30d", "Last 30 days", 30 * 86400e3],
];

const states = new Map();

const COLUMNS = [
  { id: "name", title: "Name", cell: (s) => s.session_name || h("span", { class: "muted" }, "(unnamed)") },
  { id: "id", title: "Session id", cell: (s) => h("code", {}, s.session_id) },
  { id: "created", title: "Started", cell: (s) => time(s.created_at) },
  { id: "latest", title: "Last request", cell: (s) => time(s.latest_request_created_at) },
  { id: "requests", title: "Requests", num: true, cell: (s) => num(s.total_requests) },
  { id: "tokens", title: "Tokens", num: true, cell: (s) => num(s.total_tokens) },
  { id: "cost", title: "Cost", num: true, cell: (s) => usd(s.total_cost) },
  { id: "latency", title: "Avg latency", num: true, cell: (s) => ms(s.avg_latency) },
  { id: "users", title: "Users", cell: (s) => (s.user_ids || []).join(", ") || "–" },
];

export async function renderSessions(main) {
  const key = currentKey().key;
  if (!states.has(key)) states.set(key, { search: "", range: "all", offset: 0, limit: 50 });
  const state = states.get(key);
  const results = h("div", { class: "results", "aria-busy": "true" });
  const charts = h("div", { class: "chart-grid", id: "session-metrics" });
  const search = h("input", { type: "search", id: "session-search", value: state.search, placeholder: "name or id" });
  const range = h("select", { id: "session-range" }, RANGES.map(([v, label]) => h("option", { value: v, selected: v === state.range }, label)));

  async function load() {
    results.setAttribute("aria-busy", "true");
    const span = RANGES.find(([v]) => v === state.range)[2];
    const now = Date.now();
    const body = {
      search: state.search,
      filter: "all",
      offset: state.offset,
      limit: state.limit,
      // The API shifts times by this many minutes; the browser formats in local time itself.
      timezoneDifference: 0,
      ...(span ? { timeFilter: { startTimeUnixMs: now - span, endTimeUnixMs: now } } : {}),
    };
    // The histograms are a summary; a failure there should not hide the list.
    post("/v1/session/metrics/query", { nameContains: state.search, filter: "all", timezoneDifference: 0, ...(body.timeFilter ? { timeFilter: body.timeFilter } : {}) })
      .then((m) => {
        const count = (v) => num(Math.round(v * 10) / 10);
        clear(charts).append(
          histogram({ title: "Requests per session", buckets: m.session_count, average: m.average.session_count[0]?.average ?? 0, format: count }),
          histogram({ title: "Session duration", buckets: m.session_duration, average: m.average.session_duration[0]?.average ?? 0, format: (v) => ms(v * 1000) }),
          histogram({ title: "Session cost", buckets: m.session_cost, average: m.average.session_cost[0]?.average ?? 0, format: usd }),
        );
      })
      .catch(() => clear(charts));
    try {
      const rows = await post("/v1/session/query", body);
      clear(results);
      if (!rows.length) {
        results.append(h("p", { class: "empty" }, state.search ? "No session matches this search." : "No sessions yet. Send requests with a Helicone-Session-Id header to group them."));
      } else {
        results.append(
          dataTable({
            caption: "Sessions",
            columns: COLUMNS,
            rows,
            onOpen: (s) => {
              location.hash = `#/sessions/${encodeURIComponent(s.session_id)}`;
            },
            rowLabel: (s) => `Session ${s.session_name || ""} ${s.session_id}`,
          }),
        );
      }
      results.append(
        pager({
          offset: state.offset,
          limit: state.limit,
          shown: rows.length,
          total: null,
          onPage: (o) => {
            state.offset = o;
            load();
          },
          onLimit: (l) => {
            state.limit = l;
            state.offset = 0;
            load();
          },
        }),
      );
    } catch (err) {
      clear(results).append(h("p", { class: "form-error", role: "alert" }, err.message));
    } finally {
      results.setAttribute("aria-busy", "false");
    }
  }

  main.append(
    h("div", { class: "page-head" }, h("h1", {}, "Sessions")),
    h(
      "form",
      {
        class: "card row search-bar",
        role: "search",
        onsubmit: (e) => {
          e.preventDefault();
          state.search = search.value.trim();
          state.range = range.value;
          state.offset = 0;
          load();
        },
      },
      h("label", { for: "session-search" }, "Search sessions"),
      search,
      h("label", { for: "session-range" }, "Time range"),
      range,
      h("button", { type: "submit", class: "primary" }, "Search"),
    ),
    charts,
    results,
  );
  await load();
}

// --- One session ---------------------------------------------------------------------------

const SESSION_PAGE = 1000;
const SESSION_CAP = 10000;

async function sessionRequests(id) {
  const filter = { request_response_rmt: { properties: { "Helicone-Session-Id": { equals: id } } } };
  const all = [];
  for (let offset = 0; offset < SESSION_CAP; offset += SESSION_PAGE) {
    const page = await post("/v1/request/query", { filter, offset, limit: SESSION_PAGE, sort: { created_at: "asc" } });
    all.push(...page);
    if (page.length < SESSION_PAGE) return { rows: all, capped: false };
  }
  return { rows: all, capped: true };
}

// Nodes by Helicone-Session-Path: "/plan/hotel" sits under "/plan", which sits under "/".
export function buildTree(rows) {
  const root = { name: "/", path: "/", children: new Map(), requests: [] };
  for (const r of rows) {
    const path = r.properties?.["Helicone-Session-Path"] || "/";
    let node = root;
    let acc = "";
    for (const seg of path.split("/").filter(Boolean)) {
      acc += `/${seg}`;
      if (!node.children.has(seg)) node.children.set(seg, { name: seg, path: acc, children: new Map(), requests: [] });
      node = node.children.get(seg);
    }
    node.requests.push(r);
  }
  return root;
}

function totals(node) {
  let count = node.requests.length;
  let cost = node.requests.reduce((s, r) => s + (r.cost || 0), 0);
  for (const child of node.children.values()) {
    const t = totals(child);
    count += t.count;
    cost += t.cost;
  }
  return { count, cost };
}

function treeNode(node, onOpen) {
  const t = totals(node);
  const items = [
    ...node.requests.map((r) =>
      h(
        "li",
        { class: "tree-request" },
        h(
          "button",
          { type: "button", class: "link", onclick: () => onOpen(r) },
          h("span", { class: `dot ${statusClass(r.response_status)}`, "aria-hidden": "true" }),
          `${r.model || "request"} · ${ms(r.delay_ms)} · ${usd(r.cost)}`,
        ),
      ),
    ),
    ...[...node.children.values()].map((c) => treeNode(c, onOpen)),
  ];
  return h(
    "li",
    { class: "tree-node" },
    h(
      "details",
      { open: true },
      h("summary", {}, h("strong", {}, node.name), h("span", { class: "muted" }, ` ${node.path} · ${t.count} request${t.count === 1 ? "" : "s"} · ${usd(t.cost)}`)),
      h("ul", {}, items),
    ),
  );
}

function waterfall(rows, onOpen) {
  const starts = rows.map((r) => new Date(r.request_created_at).getTime());
  const ends = rows.map((r, i) => starts[i] + (r.delay_ms || 0));
  const t0 = Math.min(...starts);
  const span = Math.max(1, Math.max(...ends) - t0);
  const rowH = 26;
  const labelW = 220;
  const width = 900;
  const plotW = width - labelW - 70;
  const height = rows.length * rowH + 30;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "waterfall", role: "group", "aria-label": `Timeline of ${rows.length} requests over ${ms(span)}` });
  for (let i = 0; i <= 4; i += 1) {
    const x = labelW + (plotW * i) / 4;
    chart.append(svg("line", { x1: x, x2: x, y1: 0, y2: height - 20, class: "grid" }), svg("text", { x, y: height - 6, class: "axis", "text-anchor": "middle" }, ms((span * i) / 4)));
  }
  rows.forEach((r, i) => {
    const y = i * rowH + 4;
    const x = labelW + ((starts[i] - t0) / span) * plotW;
    const w = Math.max(2, ((r.delay_ms || 0) / span) * plotW);
    const path = r.properties?.["Helicone-Session-Path"] || "/";
    const g = svg(
      "g",
      { class: "bar", tabindex: "0", role: "button", "aria-label": `${path} ${r.model}, ${ms(r.delay_ms)}` },
      svg("title", {}, `${path} · ${r.model} · ${ms(r.delay_ms)}`),
      // The whole row is the click target, not only the (possibly tiny) bar.
      svg("rect", { x: 0, y: y - 2, width, height: rowH, class: "hit" }),
      svg("text", { x: 4, y: y + 15, class: "label" }, `${path} · ${r.model || ""}`.slice(0, 34)),
      svg("rect", { x, y, width: w, height: rowH - 8, rx: 3, class: `bar-rect ${statusClass(r.response_status)}` }),
      svg("text", { x: x + w + 4, y: y + 14, class: "axis" }, ms(r.delay_ms)),
    );
    g.addEventListener("click", () => onOpen(r));
    g.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        onOpen(r);
      }
    });
    chart.append(g);
  });
  return h("div", { class: "waterfall-wrap" }, chart);
}

export async function renderSession(main, { parts }) {
  const id = parts[0];
  main.append(
    h("p", {}, h("a", { href: "#/sessions" }, "← All sessions")),
    h("div", { class: "page-head" }, h("h1", {}, "Session ", h("code", {}, id))),
  );
  const body = h("div", { "aria-busy": "true" }, h("p", { class: "muted" }, "Loading…"));
  main.append(body);
  let data;
  try {
    data = await sessionRequests(id);
  } catch (err) {
    clear(body).append(h("p", { class: "form-error", role: "alert" }, err.message));
    return;
  }
  const { rows, capped } = data;
  clear(body).setAttribute("aria-busy", "false");
  if (!rows.length) {
    body.append(h("p", { class: "empty" }, "This session has no requests in this organization."));
    return;
  }
  const open = (r) => openDrawer(r.request_id, { preloaded: r });
  const first = new Date(rows[0].request_created_at).getTime();
  const last = Math.max(...rows.map((r) => new Date(r.request_created_at).getTime() + (r.delay_ms || 0)));
  const name = rows[0].properties?.["Helicone-Session-Name"];
  const stat = (label, value) => h("div", { class: "stat" }, h("div", { class: "stat-label" }, label), h("div", { class: "stat-value" }, value));
  body.append(
    h(
      "div",
      { class: "stats" },
      stat("Name", name || "(unnamed)"),
      stat("Requests", num(rows.length)),
      stat("Cost", usd(rows.reduce((s, r) => s + (r.cost || 0), 0))),
      stat("Tokens", num(rows.reduce((s, r) => s + (r.total_tokens || 0), 0))),
      stat("Duration", ms(last - first)),
      stat("Started", time(rows[0].request_created_at)),
    ),
    capped ? h("p", { class: "muted" }, `Showing the first ${SESSION_CAP.toLocaleString()} requests.`) : "",
    h(
      "div",
      { class: "session-grid" },
      h("section", { class: "card", "aria-labelledby": "tree-title" }, h("h2", { id: "tree-title" }, "Trace tree"), h("ul", { class: "tree" }, treeNode(buildTree(rows), open))),
      h("section", { class: "card", "aria-labelledby": "wf-title" }, h("h2", { id: "wf-title" }, "Timeline"), waterfall(rows, open)),
    ),
  );
}
