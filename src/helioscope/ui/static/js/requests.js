// The Requests page: the filtered, sorted, server-paged log of the signed-in organization.
import { post } from "./api.js";
import { columnChooser, chosenColumns } from "./columns.js";
import { clear, h, toast } from "./dom.js";
import { openDrawer } from "./drawer.js";
import { exportRequests } from "./export.js";
import { and, countConditions, emptyGroup, renderFilterBuilder, toTree } from "./filters.js";
import { time } from "./format.js";
import { currentKey } from "./auth.js";
import { dataTable, pager } from "./table.js";
import { datasetForm } from "./datasets.js";

const RANGES = [
  ["all", "All time"],
  ["1h", "Last hour"],
  ["24h", "Last 24 hours"],
  ["7d", "Last 7 days"],
  ["30d", "Last 30 days"],
];
const RANGE_MS = { "1h": 3600e3, "24h": 86400e3, "7d": 7 * 86400e3, "30d": 30 * 86400e3 };

// Page state survives navigation within the tab, per organization key.
const states = new Map();

function stateFor(key) {
  if (!states.has(key)) {
    states.set(key, { filter: emptyGroup(), applied: "all", offset: 0, limit: 50, sort: { created_at: "desc" }, selected: new Set(), range: "all", keyHints: { properties: new Set(), scores: new Set() } });
  }
  return states.get(key);
}

export async function renderRequests(main, { params }) {
  const state = stateFor(currentKey().key);
  // Links such as #/requests?property=env:prod or ?user=alice start with that condition.
  const prop = params.get("property");
  const user = params.get("user");
  if ((prop && prop.includes(":")) || user) {
    state.filter = emptyGroup();
    if (user) state.filter.items.push({ type: "leaf", field: "user_id", key: "", operator: "equals", value: user });
    else {
      const [k, ...v] = prop.split(":");
      state.filter.items.push({ type: "leaf", field: "properties", key: k, operator: "equals", value: v.join(":") });
    }
    state.applied = toTree(state.filter);
    state.offset = 0;
  }
  const countEl = h("span", { class: "count muted", "aria-live": "polite" });
  const results = h("div", { class: "results", "aria-busy": "true" });
  const filterBox = h("div", { class: "filter-panel", id: "filter-panel" });
  const filterBadge = h("span", { class: "badge" });
  const filterToggle = h("button", { type: "button", class: "ghost", "aria-expanded": "false", "aria-controls": "filter-panel" }, "Filters ", filterBadge);
  const applyBtn = h("button", { type: "submit", class: "primary" }, "Apply filters");
  const filterForm = h(
    "form",
    {
      onsubmit: (e) => {
        e.preventDefault();
        state.applied = toTree(state.filter);
        state.offset = 0;
        load();
      },
    },
    filterBox,
    h(
      "div",
      { class: "row" },
      applyBtn,
      h("button", { type: "button", class: "ghost", onclick: () => { state.filter = emptyGroup(); state.applied = "all"; state.offset = 0; drawFilters(); load(); } }, "Clear"),
      h("details", { class: "tree-preview" }, h("summary", {}, "Filter tree (as sent to the API)"), h("pre", { id: "tree-json" })),
    ),
  );
  const filterSection = h("section", { class: "card filters", hidden: true, "aria-label": "Filters" }, filterForm);
  filterToggle.addEventListener("click", () => {
    filterSection.hidden = !filterSection.hidden;
    filterToggle.setAttribute("aria-expanded", String(!filterSection.hidden));
    if (!filterSection.hidden) filterSection.querySelector("select, input, button")?.focus();
  });

  function drawFilters() {
    clear(filterBox);
    renderFilterBuilder(filterBox, state.filter, {
      keyHints: state.keyHints,
      onChange: () => {
        const n = countConditions(state.filter);
        filterBadge.textContent = n ? String(n) : "";
        const pre = document.getElementById("tree-json");
        if (pre) pre.textContent = JSON.stringify(toTree(state.filter), null, 2);
      },
    });
  }

  // The filter tree as sent: the builder's tree, within the chosen time range.
  function effective() {
    const span = RANGE_MS[state.range];
    if (!span) return state.applied;
    const since = new Date(Date.now() - span).toISOString();
    return and(state.applied, { request_response_rmt: { request_created_at: { gte: since } } });
  }

  let controller = null;
  async function load() {
    controller?.abort();
    controller = new AbortController();
    results.setAttribute("aria-busy", "true");
    const filter = effective();
    const body = { filter, offset: state.offset, limit: state.limit, sort: state.sort };
    try {
      const [rows, total] = await Promise.all([
        post("/v1/request/query", body, { signal: controller.signal }),
        post("/v1/request/count/query", { filter }, { signal: controller.signal }),
      ]);
      for (const r of rows) {
        Object.keys(r.properties || {}).forEach((k) => state.keyHints.properties.add(k));
        Object.keys(r.scores || {}).forEach((k) => state.keyHints.scores.add(k));
      }
      countEl.textContent = `${total.toLocaleString()} request${total === 1 ? "" : "s"}`;
      drawTable(rows, total);
    } catch (err) {
      if (err.name === "AbortError") return;
      clear(results).append(h("p", { class: "form-error", role: "alert" }, err.message));
    } finally {
      results.setAttribute("aria-busy", "false");
    }
  }

  let shown = null; // the page on screen, redrawn when the columns change
  function drawTable(rows, total) {
    shown = [rows, total];
    clear(results);
    if (!rows.length) {
      results.append(h("p", { class: "empty" }, state.applied === "all" && state.range === "all" ? "No requests logged yet. Send a call through the gateway to see it here." : "No request matches these filters and time range."));
    } else {
      results.append(
        dataTable({
          caption: "Requests",
          columns: chosenColumns(),
          rows,
          sort: state.sort,
          onSort: (key, dir) => {
            state.sort = { [key]: dir };
            state.offset = 0;
            load();
          },
          onOpen: (row) => openDrawer(row.request_id, { preloaded: row }),
          rowLabel: (row) => `Request ${row.request_id}, ${row.model}, ${time(row.request_created_at)}`,
          selection: { ids: state.selected, idOf: (row) => row.request_id, onChange: showSelection },
        }),
      );
    }
    results.append(
      pager({
        offset: state.offset,
        limit: state.limit,
        shown: rows.length,
        total,
        onPage: (offset) => {
          state.offset = offset;
          load();
        },
        onLimit: (limit) => {
          state.limit = limit;
          state.offset = 0;
          load();
        },
      }),
    );
  }

  const selectionBar = h("div", { class: "selection-bar card row", hidden: true, role: "region", "aria-label": "Selected requests" });
  function showSelection() {
    const n = state.selected.size;
    selectionBar.hidden = n === 0;
    clear(selectionBar);
    if (!n) return;
    selectionBar.append(
      h("strong", {}, `${n} selected`),
      datasetForm([...state.selected], () => {
        state.selected.clear();
        showSelection();
        load();
      }),
      h("button", { type: "button", class: "ghost small", onclick: () => { state.selected.clear(); showSelection(); load(); } }, "Clear selection"),
    );
  }

  const doExport = (format) => async () => {
    try {
      await exportRequests(effective(), format, state.sort);
    } catch (err) {
      toast(err.message, "error");
    }
  };
  main.append(
    h(
      "div",
      { class: "page-head" },
      h("h1", {}, "Requests"),
      countEl,
      h(
        "div",
        { class: "toolbar" },
        h("label", { for: "req-range", class: "visually-hidden" }, "Time range"),
        h(
          "select",
          { id: "req-range", onchange: (e) => { state.range = e.target.value; state.offset = 0; load(); } },
          RANGES.map(([v, text]) => h("option", { value: v, selected: v === state.range }, text)),
        ),
        filterToggle,
        columnChooser(() => (shown ? drawTable(...shown) : load())),
        h("button", { type: "button", class: "ghost", onclick: doExport("csv") }, "Export CSV"),
        h("button", { type: "button", class: "ghost", onclick: doExport("jsonl") }, "Export JSONL"),
        h("button", { type: "button", class: "ghost", onclick: () => load() }, "Refresh"),
      ),
    ),
    filterSection,
    selectionBar,
    results,
  );
  showSelection();
  drawFilters();
  if (countConditions(state.filter)) {
    filterSection.hidden = false;
    filterToggle.setAttribute("aria-expanded", "true");
  }
  await load();
}
