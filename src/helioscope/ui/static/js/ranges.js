// The one list of time ranges every page offers, and the window and bucket size each means.
import { h } from "./dom.js";

export const RANGES = [
  { id: "1h", label: "Last hour", ms: 3600e3, unit: "min" },
  { id: "24h", label: "Last 24 hours", ms: 86400e3, unit: "hour" },
  { id: "7d", label: "Last 7 days", ms: 7 * 86400e3, unit: "hour" },
  { id: "30d", label: "Last 30 days", ms: 30 * 86400e3, unit: "day" },
  { id: "90d", label: "Last 90 days", ms: 90 * 86400e3, unit: "day" },
];
const ALL = { id: "all", label: "All time" };
const CUSTOM = { id: "custom", label: "Custom range…" };

/** The window of a range state {range, from, to}: {start, end, unit} (start null: all time). */
export function windowOf({ range, from, to }) {
  const end = new Date();
  if (range === "custom") {
    const start = from ? new Date(from) : null;
    const stop = to ? new Date(to) : end;
    const span = stop - (start || stop);
    const unit = span <= 3 * 3600e3 ? "min" : span <= 8 * 86400e3 ? "hour" : "day";
    return { start: start && !Number.isNaN(start.getTime()) ? start : null, end: stop, unit };
  }
  const preset = RANGES.find((r) => r.id === range);
  if (!preset) return { start: null, end, unit: "day" };
  return { start: new Date(end.getTime() - preset.ms), end, unit: preset.unit };
}

export function rangeFromParams(params, fallback) {
  const range = params.get("r") || fallback;
  return { range, from: params.get("from") || "", to: params.get("to") || "" };
}

export function rangeParams(state) {
  return {
    r: state.range,
    from: state.range === "custom" ? state.from : "",
    to: state.range === "custom" ? state.to : "",
  };
}

const local = (iso) => {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
};

/** The range picker: presets, and a custom from/to beside them; onChange(state) on change. */
export function rangePicker({ id, state, onChange, allowAll = true }) {
  const options = [...(allowAll ? [ALL] : []), ...RANGES, CUSTOM];
  const from = h("input", { type: "datetime-local", id: `${id}-from`, value: local(state.from) });
  const to = h("input", { type: "datetime-local", id: `${id}-to`, value: local(state.to) });
  const apply = h("button", { type: "submit", class: "ghost small" }, "Apply");
  const custom = h(
    "form",
    {
      class: "row inline custom-range",
      hidden: state.range !== "custom",
      onsubmit: (e) => {
        e.preventDefault();
        const f = from.value ? new Date(from.value).toISOString() : "";
        const t = to.value ? new Date(to.value).toISOString() : "";
        onChange({ range: "custom", from: f, to: t });
      },
    },
    h("label", { for: `${id}-from` }, "From"),
    from,
    h("label", { for: `${id}-to` }, "To"),
    to,
    apply,
  );
  const select = h(
    "select",
    {
      id,
      onchange: (e) => {
        custom.hidden = e.target.value !== "custom";
        if (e.target.value === "custom") from.focus();
        else onChange({ range: e.target.value, from: "", to: "" });
      },
    },
    options.map((o) => h("option", { value: o.id, selected: o.id === state.range }, o.label)),
  );
  return h(
    "div",
    { class: "range-picker row" },
    h("label", { for: id, class: "visually-hidden" }, "Time range"),
    select,
    custom,
  );
}
