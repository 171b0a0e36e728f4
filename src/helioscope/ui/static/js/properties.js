// The Properties page: every property key, and for the chosen one its top values by cost and
// by requests and their requests over time; a value links to the Requests page filtered by it.
import { post } from "./api.js";
import { timeChart } from "./charts.js";
import { clear, h, toast } from "./dom.js";
import { isInternalKey, num, usd } from "./format.js";
import { rangeFromParams, rangeParams, rangePicker, windowOf } from "./ranges.js";
import { emptyState, errorState, loading } from "./states.js";
import { hashOf, setParams } from "./url.js";

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
                : h(
                    "a",
                    {
                      class: "hbar-label",
                      href: hashOf(["requests"], new URLSearchParams({ property: `${propertyKey}:${r.value}` })),
                      title: "Requests with this value",
                    },
                    r.value || "(empty)",
                  ),
              h("span", { class: "hbar-track", "aria-hidden": "true" }, bar(r.v / max)),
              h("span", { class: "hbar-value" }, format(r.v)),
            ),
          ),
        )
      : h("p", { class: "muted" }, "No values in this range."),
  );
}

export async function renderProperties(main, { params }) {
  // The chosen key, range and whether Helicone's internal keys are listed live in the URL.
  const state = {
    key: params.get("k"),
    range: rangeFromParams(params, "7d"),
    internal: params.get("internal") === "1",
  };
  const save = () =>
    setParams({
      k: state.key,
      ...rangeParams(state.range),
      r: state.range.range === "7d" ? "" : state.range.range,
      internal: state.internal ? "1" : "",
    });
  const list = h("nav", { class: "card prop-list", "aria-label": "Property keys" });
  const detail = h("div", { class: "prop-detail", id: "prop-detail" });
  const internalBox = h("input", { type: "checkbox", id: "prop-internal", checked: state.internal });
  main.append(
    h(
      "div",
      { class: "page-head" },
      h("h1", {}, "Properties"),
      h(
        "div",
        { class: "toolbar" },
        h("label", { class: "check", for: "prop-internal" }, internalBox, "Show Helicone's internal keys"),
        rangePicker({
          id: "prop-range",
          state: state.range,
          allowAll: false,
          onChange: (range) => {
            state.range = range;
            showKey(state.key);
          },
        }),
      ),
    ),
    h("div", { class: "prop-layout" }, list, detail),
  );

  let newest = 0; // the key shown last wins, whichever answer arrives last
  async function showKey(k) {
    const mine = ++newest;
    state.key = k;
    save();
    for (const b of list.querySelectorAll("button.link")) b.setAttribute("aria-current", String(b.dataset.key === k));
    clear(detail);
    if (!k) return;
    loading(detail);
    const { start, end, unit } = windowOf(state.range);
    const timeFilter = { start: start.toISOString(), end: end.toISOString() };
    try {
      const enc = encodeURIComponent(k);
      const [costs, counts, series] = await Promise.all([
        post(`/v1/property/${enc}/top-costs/query`, { timeFilter }),
        post(`/v1/property/${enc}/top-requests/query`, { timeFilter }),
        post("/v1/property/properties/over-time", {
          propertyKey: k,
          userFilter: "all",
          timeFilter,
          dbIncrement: unit,
          timeZoneDifference: end.getTimezoneOffset(),
        }),
      ]);
      if (mine !== newest) return;
      // One stacked series per value (the five busiest), bucketed by time.
      const top = counts
        .filter((c) => c.value !== "Other")
        .slice(0, 5)
        .map((c) => c.value);
      const byTime = new Map();
      for (const row of series) {
        if (!byTime.has(row.created_at_trunc)) byTime.set(row.created_at_trunc, {});
        if (top.includes(row.property)) byTime.get(row.created_at_trunc)[row.property] = row.request_count;
      }
      const points = [...byTime.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([t, values]) => ({ time: t, values }));
      detail.replaceChildren(
        h("h2", { class: "prop-title" }, k),
        h(
          "div",
          { class: "chart-grid" },
          hbars(
            "Top values by requests",
            counts.map((c) => ({ value: c.value, v: c.count })),
            num,
            k,
          ),
          hbars(
            "Top values by cost",
            costs.map((c) => ({ value: c.value, v: c.cost })),
            usd,
            k,
          ),
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
      if (mine === newest) detail.replaceChildren(errorState(err, () => showKey(k)));
    } finally {
      if (mine === newest) detail.setAttribute("aria-busy", "false");
    }
  }

  async function loadKeys() {
    loading(list);
    let keys;
    try {
      keys = (await post("/v1/property/query", {}))
        .map((p) => p.property)
        .filter((k) => state.internal || !isInternalKey(k));
    } catch (err) {
      list.replaceChildren(errorState(err, loadKeys));
      list.setAttribute("aria-busy", "false");
      return;
    }
    // Left before the keys came: choosing one now would write k= (and drop r=) in the next
    // page's URL.
    if (!list.isConnected) return;
    list.setAttribute("aria-busy", "false");
    if (!keys.length) {
      list.replaceChildren(emptyState("No properties yet. Send Helicone-Property-<Name> headers to add some."));
      return;
    }
    list.replaceChildren(
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
  internalBox.addEventListener("change", () => {
    state.internal = internalBox.checked;
    loadKeys();
  });
  await loadKeys();
}
