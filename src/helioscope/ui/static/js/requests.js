// The Requests page: the filtered, sorted, server-paged log, with the open request in a split
// pane beside it. Everything on screen is in the URL: filters, range, sort, page, columns,
// live mode, and the open request (#/requests/<id>?...).
import { get, post } from "./api.js";
import {
  columnChooser,
  columnsFor,
  columnsText,
  columnWidths,
  parseColumns,
  rememberColumns,
  rememberWidth,
  savedColumns,
} from "./columns.js";
import { datasetForm } from "./datasets.js";
import { requestDetail } from "./detail.js";
import { clear, h, toast } from "./dom.js";
import { exportRequests } from "./export.js";
import { and, countConditions, emptyGroup, renderFilterBuilder, toTree } from "./filters.js";
import { num, time } from "./format.js";
import { liveControl } from "./live.js";
import { gettingStarted } from "./onboarding.js";
import { rangeFromParams, rangeParams, rangePicker, windowOf } from "./ranges.js";
import { emptyState, errorState, failure, loading } from "./states.js";
import { dataTable, statePager } from "./table.js";
import { decodeFilter, encodeFilter, go, hashOf, intParam, parseSort, sortText } from "./url.js";
import { viewsMenu } from "./views.js";

const NEWEST = { created_at: "desc" };

function stateFrom({ parts, params }) {
  const filter = decodeFilter(params.get("f")) || emptyGroup();
  // Links such as ?property=env:prod or ?user=alice start with that condition.
  const prop = params.get("property");
  const user = params.get("user");
  if (user) filter.items.push({ type: "leaf", field: "user_id", key: "", operator: "equals", value: user });
  else if (prop?.includes(":")) {
    const [k, ...v] = prop.split(":");
    filter.items.push({ type: "leaf", field: "properties", key: k, operator: "equals", value: v.join(":") });
  }
  return {
    filter,
    range: rangeFromParams(params, "all"),
    sort: parseSort(params.get("s"), NEWEST),
    offset: intParam(params, "o", 0),
    limit: [25, 50, 100, 250].includes(intParam(params, "l", 50)) ? intParam(params, "l", 50) : 50,
    columns: parseColumns(params.get("c")) || savedColumns(),
    live: params.get("live") === "1",
    open: parts[0] || null,
  };
}

function paramsOf(state) {
  const sortDefault = sortText(state.sort) === sortText(NEWEST);
  return new URLSearchParams(
    Object.entries({
      f: encodeFilter(state.filter),
      ...rangeParams(state.range),
      r: state.range.range === "all" ? "" : state.range.range,
      s: sortDefault ? "" : sortText(state.sort),
      o: state.offset || "",
      l: state.limit === 50 ? "" : state.limit,
      c: columnsText(state.columns),
      live: state.live ? "1" : "",
    }).filter(([, v]) => v !== "" && v !== undefined),
  );
}

// The filter tree as sent: the builder's conditions, within the chosen time range.
function effective(state) {
  let tree = toTree(state.filter);
  const { start, end } = windowOf(state.range);
  if (start) tree = and(tree, { request_response_rmt: { request_created_at: { gte: start.toISOString() } } });
  if (state.range.range === "custom" && state.range.to) {
    tree = and(tree, { request_response_rmt: { request_created_at: { lte: end.toISOString() } } });
  }
  return tree;
}

export async function renderRequests(main, ctx) {
  const state = stateFrom(ctx);
  let rows = [];
  let total = null;
  let pushedOpen = false; // whether Back (not a replace) closes the pane
  const selected = new Set();
  const propertyKeys = new Set();
  const url = (open = state.open) => hashOf(["requests", ...(open ? [open] : [])], paramsOf(state));
  const save = ({ push = false } = {}) =>
    go(["requests", ...(state.open ? [state.open] : [])], paramsOf(state), { push });

  const countEl = h("span", { class: "count muted", "aria-live": "polite" });
  const results = h("div", { class: "results", "aria-busy": "true" });
  const pane = h("aside", { class: "detail-pane", "aria-labelledby": "pane-title", hidden: true });
  const layout = h("div", { class: "split" }, results, pane);
  const filterBox = h("div", { class: "filter-panel", id: "filter-panel" });
  const filterBadge = h("span", { class: "badge" });
  const filterToggle = h(
    "button",
    { type: "button", class: "ghost", "aria-expanded": "false", "aria-controls": "filter-panel" },
    "Filters ",
    filterBadge,
  );
  const treePre = h("pre", { id: "tree-json" });
  const filterSection = h(
    "section",
    { class: "card filters", hidden: true, "aria-label": "Filters" },
    h(
      "form",
      {
        onsubmit: (e) => {
          e.preventDefault();
          state.offset = 0;
          save();
          load();
        },
      },
      filterBox,
      h(
        "div",
        { class: "row" },
        h("button", { type: "submit", class: "primary" }, "Apply filters"),
        h(
          "button",
          {
            type: "button",
            class: "ghost",
            onclick: () => {
              state.filter = emptyGroup();
              state.offset = 0;
              drawFilters();
              save();
              load();
            },
          },
          "Clear",
        ),
        h("details", { class: "tree-preview" }, h("summary", {}, "Filter tree (as sent to the API)"), treePre),
      ),
    ),
  );
  const showFilters = (open) => {
    filterSection.hidden = !open;
    filterToggle.setAttribute("aria-expanded", String(open));
  };
  filterToggle.addEventListener("click", () => {
    showFilters(filterSection.hidden);
    if (!filterSection.hidden) filterSection.querySelector("select, input, button")?.focus();
  });

  function drawFilters() {
    clear(filterBox);
    renderFilterBuilder(filterBox, state.filter, {
      keyHints: { properties: propertyKeys },
      onChange: () => {
        const n = countConditions(state.filter);
        filterBadge.textContent = n ? String(n) : "";
        treePre.textContent = JSON.stringify(toTree(state.filter), null, 2);
      },
    });
  }

  const tableWrap = () => results.querySelector(".table-wrap");
  let controller = null;
  async function load({ quiet = false } = {}) {
    controller?.abort();
    const mine = new AbortController();
    controller = mine;
    if (!quiet) loading(results);
    const body = { filter: effective(state), offset: state.offset, limit: state.limit, sort: state.sort, count: true };
    try {
      const page = await post("/v1/helioscope/requests/query", body, { signal: mine.signal });
      rows = page.requests;
      total = page.total;
      for (const r of rows) for (const k of Object.keys(r.properties || {})) propertyKeys.add(k);
      countEl.textContent = `${num(total)} request${total === 1 ? "" : "s"}`;
      drawTable();
      placeInRows();
    } catch (err) {
      if (err.name === "AbortError") return;
      failure(results, err, () => load());
    } finally {
      // An aborted load ends after its successor started: the page is still busy with that one.
      if (controller === mine) results.setAttribute("aria-busy", "false");
    }
  }

  function drawTable() {
    const scrollTop = tableWrap()?.scrollTop || 0;
    clear(results);
    if (!rows.length) {
      const unfiltered = !countConditions(state.filter) && state.range.range === "all";
      results.append(
        unfiltered
          ? gettingStarted()
          : emptyState("No request matches these filters and time range. Widen the range or clear a filter."),
      );
    } else {
      results.append(
        dataTable({
          caption: "Requests",
          columns: columnsFor(state.columns),
          rows,
          sort: state.sort,
          onSort: (key, dir) => {
            state.sort = { [key]: dir };
            state.offset = 0;
            save();
            load();
          },
          onOpen: (row) => openRequest(row.request_id, { push: !state.open }),
          rowLabel: (row) => `Request ${row.request_id}, ${row.model}, ${time(row.request_created_at)}`,
          idOf: (row) => row.request_id,
          activeId: state.open,
          selection: { ids: selected, idOf: (row) => row.request_id, onChange: showSelection },
          layout: {
            widths: columnWidths(),
            onResize: rememberWidth,
            onReorder: (from, to) => {
              const next = state.columns.filter((c) => c !== from);
              next.splice(next.indexOf(to), 0, from);
              setColumns(next);
            },
          },
        }),
      );
      const wrap = tableWrap();
      if (wrap) wrap.scrollTop = scrollTop;
    }
    results.append(
      statePager(state, rows.length, total, () => {
        save();
        load();
      }),
    );
  }

  function setColumns(next) {
    state.columns = next;
    rememberColumns(next);
    save();
    drawTable();
  }

  // The split pane: the open request beside the table, J/K to walk, Esc or Back to close.
  let paneToken = 0;
  let paneNav = null; // the open pane's nav, kept in step with the rows shown
  // Where the open request sits among the rows shown; again after each load (a sort, a filter,
  // a live refresh moves it), so its position and its ↑/↓ never describe an older list.
  function placeInRows() {
    if (!paneNav) return;
    const at = rows.findIndex((r) => r.request_id === state.open);
    paneNav.onPrev = at > 0 ? () => step(-1) : null;
    paneNav.onNext = at >= 0 && at < rows.length - 1 ? () => step(1) : null;
    paneNav.position = at >= 0 ? `${state.offset + at + 1} of ${num(total)}` : "";
    const position = pane.querySelector(".pane-position");
    if (position) position.textContent = paneNav.position;
    for (const [which, go] of [
      ["prev", paneNav.onPrev],
      ["next", paneNav.onNext],
    ]) {
      const button = pane.querySelector(`[data-nav="${which}"]`);
      if (button) button.disabled = !go;
    }
  }
  async function showPane() {
    const id = state.open;
    pane.hidden = !id;
    layout.classList.toggle("with-pane", Boolean(id));
    for (const tr of results.querySelectorAll("tbody tr"))
      tr.setAttribute("aria-current", String(tr.dataset.id === id));
    paneNav = id ? { onClose: closePane } : null;
    if (!id) return;
    const token = ++paneToken;
    const preloaded = rows.find((r) => r.request_id === id);
    const nav = paneNav;
    placeInRows();
    if (preloaded) pane.replaceChildren(requestDetail(preloaded, nav));
    else loading(pane);
    try {
      const full = preloaded || (await get(`/v1/helioscope/requests/${encodeURIComponent(id)}`));
      if (token === paneToken && !preloaded) pane.replaceChildren(requestDetail(full, nav));
    } catch (err) {
      if (token === paneToken)
        pane.replaceChildren(
          h(
            "div",
            { class: "pane-head" },
            h(
              "button",
              { type: "button", class: "ghost icon", "aria-label": "Close details", onclick: closePane },
              "✕",
            ),
          ),
          errorState(err, showPane),
        );
    }
    pane.setAttribute("aria-busy", "false");
    pane.querySelector("#pane-title")?.focus({ preventScroll: true });
  }

  function openRequest(id, { push }) {
    if (push) pushedOpen = true;
    state.open = id;
    save({ push });
    showPane();
  }

  function closePane() {
    if (pushedOpen) {
      history.back(); // the router's update() hides the pane
      return;
    }
    const id = state.open;
    state.open = null;
    save();
    showPane();
    results.querySelector(`tbody tr[data-id="${CSS.escape(id || "")}"]`)?.focus();
  }

  function step(by) {
    const at = rows.findIndex((r) => r.request_id === state.open);
    const next = rows[at + by];
    if (!next) return toast(by > 0 ? "Last request on this page" : "First request on this page");
    state.open = next.request_id;
    save();
    showPane();
    results.querySelector(`tbody tr[data-id="${CSS.escape(next.request_id)}"]`)?.scrollIntoView({ block: "nearest" });
  }

  function onKey(e) {
    if (!state.open || e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.target.closest?.("input, textarea, select, [contenteditable]")) return;
    if (e.key === "j") step(1);
    else if (e.key === "k") step(-1);
    else if (e.key === "Escape") closePane();
  }
  document.addEventListener("keydown", onKey, { signal: ctx.signal });

  const selectionBar = h("div", {
    class: "selection-bar card row",
    hidden: true,
    role: "region",
    "aria-label": "Selected requests",
  });
  function showSelection() {
    const n = selected.size;
    selectionBar.hidden = n === 0;
    clear(selectionBar);
    if (!n) return;
    selectionBar.append(
      h("strong", {}, `${n} selected`),
      datasetForm([...selected], () => {
        selected.clear();
        showSelection();
        load({ quiet: true });
      }),
      h(
        "button",
        {
          type: "button",
          class: "ghost small",
          onclick: () => {
            selected.clear();
            showSelection();
            drawTable();
          },
        },
        "Clear selection",
      ),
    );
  }

  const doExport = (format) => async () => {
    try {
      await exportRequests(effective(state), format, state.sort);
    } catch (err) {
      toast(err.message, "error");
    }
  };
  const live = liveControl({
    signal: ctx.signal,
    on: state.live,
    onToggle: (on) => {
      state.live = on;
      save();
    },
    filter: () => effective(state),
    refresh: () => load({ quiet: true }),
    // New rows wait while the user reads further down, selects rows or text, or pages on.
    paused: () =>
      state.offset > 0 ||
      window.scrollY > 40 ||
      (tableWrap()?.scrollTop || 0) > 0 ||
      selected.size > 0 ||
      String(getSelection()).length > 0,
  });
  const toolbar = h(
    "div",
    { class: "toolbar" },
    rangePicker({
      id: "req-range",
      state: state.range,
      onChange: (range) => {
        state.range = range;
        state.offset = 0;
        save();
        load();
      },
    }),
    filterToggle,
    columnChooser(state.columns, propertyKeys, setColumns),
    viewsMenu(() => url(null)),
    live.element,
    h("button", { type: "button", class: "ghost", onclick: doExport("csv") }, "Export CSV"),
    h("button", { type: "button", class: "ghost", onclick: doExport("jsonl") }, "Export JSONL"),
    h("button", { type: "button", class: "ghost", onclick: () => load() }, "Refresh"),
  );
  main.append(
    h("div", { class: "page-head" }, h("h1", {}, "Requests"), countEl, toolbar),
    filterSection,
    selectionBar,
    layout,
  );
  drawFilters();
  showFilters(countConditions(state.filter) > 0);
  save(); // a ?property= or ?user= link becomes the page's own filter in the URL
  post("/v1/property/query", {})
    .then((keys) => {
      for (const p of keys) propertyKeys.add(p.property);
    })
    .catch(() => {});
  await load();
  await showPane();

  return {
    teardown: () => {
      live.stop();
      controller?.abort();
      document.removeEventListener("keydown", onKey);
    },
    // Back, Forward or a link to this page: only the open request changed, or re-render.
    update: (next) => {
      const fresh = stateFrom(next);
      if (url(null) !== hashOf(["requests"], paramsOf({ ...fresh, open: null }))) return false;
      if (!fresh.open) pushedOpen = false;
      const was = state.open;
      state.open = fresh.open;
      showPane();
      if (was && !fresh.open) results.querySelector(`tbody tr[data-id="${CSS.escape(was)}"]`)?.focus();
      return true;
    },
  };
}
