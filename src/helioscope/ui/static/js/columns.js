// The request table's columns: what each shows and how it sorts; a property can be a column of
// its own ("p.<name>"). The chosen columns and their order live in the URL (c=...), widths in
// this browser.
import { scopeId } from "./auth.js";
import { textPreview } from "./chat.js";
import { closesLikeAMenu, h } from "./dom.js";
import { ms, num, scoreEntries, shortTime, statusClass, time, truncate, usd, visibleProperties } from "./format.js";

const chips = (entries, cls = "") =>
  h(
    "span",
    { class: "chips one-line" },
    entries.map(([k, v]) => h("span", { class: `chip ${cls}` }, `${k}: ${v}`)),
  );
const flat = (entries) => entries.map(([k, v]) => `${k}: ${v}`).join(", ");

export const COLUMNS = [
  {
    id: "created",
    title: "Created",
    sort: "created_at",
    width: 150,
    cell: (r) => shortTime(r.request_created_at),
    tip: (r) => time(r.request_created_at),
  },
  {
    id: "status",
    title: "Status",
    sort: "status",
    width: 70,
    cell: (r) => h("span", { class: `status ${statusClass(r.response_status)}` }, String(r.response_status)),
  },
  { id: "model", title: "Model", sort: "model", width: 150, cell: (r) => r.model || r.request_model || "–" },
  {
    id: "request",
    title: "Request",
    width: 240,
    cell: (r) => truncate(textPreview(r.request_body, "request"), 200),
    tip: (r) => truncate(textPreview(r.request_body, "request"), 400),
  },
  {
    id: "response",
    title: "Response",
    width: 240,
    cell: (r) => truncate(textPreview(r.response_body, "response"), 200),
    tip: (r) => truncate(textPreview(r.response_body, "response"), 400),
  },
  { id: "latency", title: "Latency", sort: "latency", num: true, width: 90, cell: (r) => ms(r.delay_ms) },
  {
    id: "ttft",
    title: "TTFT",
    sort: "time_to_first_token",
    num: true,
    width: 80,
    cell: (r) => ms(r.time_to_first_token),
  },
  {
    id: "prompt_tokens",
    title: "Prompt tokens",
    sort: "prompt_tokens",
    num: true,
    width: 110,
    cell: (r) => num(r.prompt_tokens),
  },
  {
    id: "completion_tokens",
    title: "Completion tokens",
    sort: "completion_tokens",
    num: true,
    width: 130,
    cell: (r) => num(r.completion_tokens),
  },
  { id: "total_tokens", title: "Tokens", sort: "total_tokens", num: true, width: 80, cell: (r) => num(r.total_tokens) },
  { id: "cost", title: "Cost", sort: "cost", num: true, width: 100, cell: (r) => usd(r.cost) },
  { id: "user", title: "User", sort: "user_id", width: 120, cell: (r) => r.request_user_id || "–" },
  { id: "provider", title: "Provider", width: 100, cell: (r) => r.provider },
  {
    id: "properties",
    title: "Properties",
    width: 260,
    cell: (r) => chips(visibleProperties(r.properties)),
    tip: (r) => flat(visibleProperties(r.properties)),
  },
  {
    id: "scores",
    title: "Scores",
    width: 160,
    cell: (r) => chips(scoreEntries(r.scores), "score"),
    tip: (r) => flat(scoreEntries(r.scores)),
  },
  {
    id: "feedback",
    title: "Feedback",
    width: 90,
    cell: (r) => (r.feedback_rating === true ? "✓ good" : r.feedback_rating === false ? "✗ bad" : "–"),
  },
  { id: "session", title: "Session", width: 140, cell: (r) => r.properties?.["Helicone-Session-Id"] || "–" },
  { id: "path", title: "Path", width: 160, cell: (r) => r.request_path || "–" },
  { id: "cached", title: "Cache hit", sort: "is_cached", width: 80, cell: (r) => (r.cache_reference_id ? "hit" : "–") },
  { id: "request_id", title: "Request id", width: 150, cell: (r) => h("code", {}, r.request_id) },
];

export const DEFAULT_COLUMNS = [
  "created",
  "status",
  "model",
  "request",
  "response",
  "latency",
  "total_tokens",
  "cost",
  "user",
  "properties",
];
const PROPERTY = "p.";

export function propertyColumn(name) {
  return {
    id: `${PROPERTY}${name}`,
    title: name,
    width: 120,
    property: name,
    cell: (r) => r.properties?.[name] ?? "–",
    tip: (r) => r.properties?.[name] ?? "",
  };
}

export function columnsFor(ids) {
  return ids
    .map((id) =>
      id.startsWith(PROPERTY) ? propertyColumn(id.slice(PROPERTY.length)) : COLUMNS.find((c) => c.id === id),
    )
    .filter(Boolean);
}

export function parseColumns(text) {
  const ids = (text || "").split(",").filter(Boolean).map(decodeURIComponent);
  const valid = ids.filter((id) => id.startsWith(PROPERTY) || COLUMNS.some((c) => c.id === id));
  return valid.length ? valid : null;
}

export const columnsText = (ids) => ids.map(encodeURIComponent).join(",");

// This browser's defaults for a fresh Requests page, and its column widths.
const storeKey = (what) => `helioscope.${what}.${scopeId()}`;
export function savedColumns() {
  try {
    const ids = JSON.parse(localStorage.getItem(storeKey("columns")) || "null");
    return Array.isArray(ids) && ids.length ? ids : DEFAULT_COLUMNS;
  } catch {
    return DEFAULT_COLUMNS;
  }
}
export const rememberColumns = (ids) => localStorage.setItem(storeKey("columns"), JSON.stringify(ids));
export function columnWidths() {
  try {
    return JSON.parse(localStorage.getItem(storeKey("widths")) || "{}") || {};
  } catch {
    return {};
  }
}
export function rememberWidth(id, px) {
  localStorage.setItem(storeKey("widths"), JSON.stringify({ ...columnWidths(), [id]: px }));
}

/** Columns menu: show/hide, move earlier/later (the keyboard's way to reorder), add a property. */
export function columnChooser(chosen, propertyKeys, onChange) {
  const box = h("div", { class: "columns-box", role: "group", "aria-label": "Columns to show" });
  const draw = () => {
    box.replaceChildren();
    const all = [...chosen, ...COLUMNS.map((c) => c.id).filter((id) => !chosen.includes(id))];
    box.append(h("p", { class: "legend" }, "Columns to show"));
    for (const id of all) {
      const [c] = columnsFor([id]);
      const at = chosen.indexOf(id);
      const move = (by) => {
        const next = [...chosen];
        next.splice(at, 1);
        next.splice(at + by, 0, id);
        onChange(next);
        chosen = next;
        draw();
        box.querySelector(`[data-move="${CSS.escape(id)}:${by}"]`)?.focus();
      };
      box.append(
        h(
          "div",
          { class: "column-choice row" },
          h(
            "label",
            { class: "check" },
            h("input", {
              type: "checkbox",
              checked: at >= 0,
              onchange: (e) => {
                const next = e.target.checked ? [...chosen, id] : chosen.filter((x) => x !== id);
                if (!next.length) return draw();
                chosen = next;
                onChange(next);
                draw();
              },
            }),
            c.property ? `Property: ${c.title}` : c.title,
          ),
          at >= 0
            ? h(
                "span",
                { class: "moves" },
                h(
                  "button",
                  {
                    type: "button",
                    class: "ghost small",
                    "data-move": `${id}:-1`,
                    disabled: at === 0,
                    "aria-label": `Move ${c.title} earlier`,
                    onclick: () => move(-1),
                  },
                  "↑",
                ),
                h(
                  "button",
                  {
                    type: "button",
                    class: "ghost small",
                    "data-move": `${id}:1`,
                    disabled: at === chosen.length - 1,
                    "aria-label": `Move ${c.title} later`,
                    onclick: () => move(1),
                  },
                  "↓",
                ),
              )
            : "",
        ),
      );
    }
    const free = [...propertyKeys].filter((k) => !chosen.includes(`${PROPERTY}${k}`)).sort();
    if (free.length) {
      const pick = h(
        "select",
        { id: "add-property-column", "aria-label": "Property to add as a column" },
        free.map((k) => h("option", { value: k }, k)),
      );
      box.append(
        h(
          "div",
          { class: "row" },
          pick,
          h(
            "button",
            {
              type: "button",
              class: "ghost small",
              onclick: () => {
                chosen = [...chosen, `${PROPERTY}${pick.value}`];
                onChange(chosen);
                draw();
              },
            },
            "Add property column",
          ),
        ),
      );
    }
  };
  draw();
  const popover = h("details", { class: "popover" }, h("summary", { class: "button ghost" }, "Columns"), box);
  popover.addEventListener("toggle", () => popover.open && draw()); // property keys arrive later
  return closesLikeAMenu(popover);
}
