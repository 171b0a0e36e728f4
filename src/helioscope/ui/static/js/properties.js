// The Properties page: every property key, and for the chosen one its top values by cost and
// by requests and their requests over time; a value links to the Requests page filtered by it.
import { post } from "./api.js";
import { currentKey } from "./auth.js";
import { clear, h, toast } from "./dom.js";
import { timeChart } from "./charts.js";
import { num, usd } from "./format.js";
import { RANGES } from "./dashboard.js";

const chosen = new Map();

// Set through the CSSOM: the page's CSP refuses inline style attributes.
function bar(fraction) {
  const el = h("span", { class: "hbar" });
  el.style.width = `${(fraction * 100).toFixed(1)}%`;
  return el;
}

function hbars(caption, rows, format, propertyKey) {
  const max = Math.max(...rows.map((r) => r.v), 0) || 1;
  return h(
    "section",
    { class: "card" },
    h("h2", {}, caption),
    rows.length
      ? h(
          "ul",
          { class: "hbars" },
          rows.map((r) =>
            h(
              "li",
              {},
              r.value === "Other"
                ? h("span", { class: "hbar-label muted" }, "Other")
                : h("a", { class: "hbar-label", href: `#/requests?property=${encodeURIComponent(`${propertyKey}:${r.value}`)}`, title: "Requests with this value" }, r.value || "(empty)"),
              h("span", { class: "hbar-track", "aria-hidden": "true" }, bar(r.v / max)),
              h("span", { class: "hbar-value" }, format(r.v)),
            ),
          ),
        )
      : h("p", { class: "muted" }, "No values in this range."),
  );
}

export async function renderProperties(main) {
  const orgKey = currentKey().key;
  const state = chosen.get(orgKey) || { key: null, range: "7d" };
  chosen.set(orgKey, state);
  const list = h("nav", { class: "card prop-list", "aria-label": "Property keys" }, h("p", { class: "muted" }, "Loading…"));
  const detail = h("div", { class: "prop-detail", id: "prop-detail", "aria-busy": "true" });
  const range = h("select", { id: "prop-range", onchange: (e) => { state.range = e.target.value; showKey(state.key); } }, RANGES.map(([id, label]) => h("option", { value: id, selected: id === state.range }, label)));
  main.append(
    h("div", { class: "page-head" }, h("h1", {}, "Properties"), h("div", { class: "toolbar" }, h("label", { for: "prop-range" }, "Time range "), range)),
    h("div", { class: "prop-layout" }, list, detail),
  );

  async function showKey(k) {
    state.key = k;
    list.querySelectorAll("button").forEach((b) => b.setAttribute("aria-current", String(b.dataset.key === k)));
    clear(detail);
    if (!k) return;
    detail.setAttribute("aria-busy", "true");
    const [, , span, unit] = RANGES.find(([id]) => id === state.range);
    const end = new Date();
    const timeFilter = { start: new Date(end.getTime() - span).toISOString(), end: end.toISOString() };
    try {
      const enc = encodeURIComponent(k);
      const [costs, counts, series] = await Promise.all([
        post(`/v1/property/${enc}/top-costs/query`, { timeFilter }),
        post(`/v1/property/${enc}/top-requests/query`, { timeFilter }),
        post("/v1/property/properties/over-time", { propertyKey: k, userFilter: "all", timeFilter, dbIncrement: unit, timeZoneDifference: end.getTimezoneOffset() }),
      ]);
      // One stacked series per value (the five busiest), bucketed by time.
      const top = counts.filter((c) => c.value !== "Other").slice(0, 5).map((c) => c.value);
      const byTime = new Map();
      for (const row of series) {
        if (!byTime.has(row.created_at_trunc)) byTime.set(row.created_at_trunc, {});
        if (top.includes(row.property)) byTime.get(row.created_at_trunc)[row.property] = row.request_count;
      }
      const points = [...byTime.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([t, values]) => ({ time: t, values }));
      detail.append(
        h("h2", { class: "prop-title" }, k),
        h(
          "div",
          { class: "chart-grid" },
          hbars("Top values by requests", counts.map((c) => ({ value: c.value, v: c.count })), num, k),
          hbars("Top values by cost", costs.map((c) => ({ value: c.value, v: c.cost })), usd, k),
          timeChart({
          title: `Requests by ${k} value`,
          kind: "bar",
          integer: true,
          unit,
          series: top.map((v, i) => ({ name: v, label: v || "(empty)", cls: `s${(i % 5) + 1}` })),
          points,
          format: (v) => num(Math.round(v)),
          }),
        ),
      );
    } catch (err) {
      detail.append(h("p", { class: "form-error", role: "alert" }, err.message));
    } finally {
      detail.setAttribute("aria-busy", "false");
    }
  }

  async function loadKeys() {
    const keys = (await post("/v1/property/query", {})).map((p) => p.property).filter((k) => !k.startsWith("Helicone-Session"));
    clear(list);
    if (!keys.length) {
      list.append(h("p", { class: "muted" }, "No properties yet. Send Helicone-Property-<Name> headers to add some."));
      return;
    }
    list.append(
      h(
        "ul",
        {},
        keys.map((k) =>
          h(
            "li",
            { class: "row prop-item" },
            h("button", { type: "button", class: "link", dataset: { key: k }, onclick: () => showKey(k) }, k),
            h(
              "button",
              {
                type: "button",
                class: "ghost small",
                "aria-label": `Hide ${k}`,
                title: "Hide this key from the list (still logged and filterable)",
                onclick: async () => {
                  try {
                    await post("/v1/property/hide", { key: k });
                    toast(`Hid ${k}`);
                    if (state.key === k) state.key = null;
                    await loadKeys();
                  } catch (err) {
                    toast(err.message, "error");
                  }
                },
              },
              "Hide",
            ),
          ),
        ),
      ),
    );
    await showKey(keys.includes(state.key) ? state.key : keys[0]);
  }
  try {
    await loadKeys();
  } catch (err) {
    clear(list).append(h("p", { class: "form-error", role: "alert" }, err.message));
  }
}
