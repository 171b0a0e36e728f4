// The request table's columns: what each shows, how it sorts, and which the user chose.
import { textPreview } from "./chat.js";
import { h } from "./dom.js";
import { ms, num, statusClass, time, truncate, usd } from "./format.js";

const chips = (map) =>
  h("span", { class: "chips" }, Object.entries(map || {}).filter(([k]) => !k.startsWith("Helicone-Session")).map(([k, v]) => h("span", { class: "chip" }, `${k}: ${v}`)));

export const COLUMNS = [
  { id: "created", title: "Created", sort: "created_at", cell: (r) => time(r.request_created_at) },
  { id: "status", title: "Status", sort: "status", cell: (r) => h("span", { class: `status ${statusClass(r.response_status)}` }, String(r.response_status)) },
  { id: "model", title: "Model", sort: "model", cell: (r) => r.model || r.request_model || "–" },
  { id: "request", title: "Request", cell: (r) => h("span", { class: "preview" }, truncate(textPreview(r.request_body, "request"), 80)) },
  { id: "response", title: "Response", cell: (r) => h("span", { class: "preview" }, truncate(textPreview(r.response_body, "response"), 80)) },
  { id: "latency", title: "Latency", sort: "latency", num: true, cell: (r) => ms(r.delay_ms) },
  { id: "ttft", title: "TTFT", sort: "time_to_first_token", num: true, cell: (r) => ms(r.time_to_first_token) },
  { id: "prompt_tokens", title: "Prompt tokens", sort: "prompt_tokens", num: true, cell: (r) => num(r.prompt_tokens) },
  { id: "completion_tokens", title: "Completion tokens", sort: "completion_tokens", num: true, cell: (r) => num(r.completion_tokens) },
  { id: "total_tokens", title: "Tokens", sort: "total_tokens", num: true, cell: (r) => num(r.total_tokens) },
  { id: "cost", title: "Cost", sort: "cost", num: true, cell: (r) => usd(r.cost) },
  { id: "user", title: "User", sort: "user_id", cell: (r) => r.request_user_id || "–" },
  { id: "provider", title: "Provider", cell: (r) => r.provider },
  { id: "properties", title: "Properties", cell: (r) => chips(r.properties) },
  { id: "scores", title: "Scores", cell: (r) => chips(r.scores) },
  { id: "feedback", title: "Feedback", cell: (r) => (r.feedback_rating === true ? "✓ good" : r.feedback_rating === false ? "✗ bad" : "–") },
  { id: "session", title: "Session", cell: (r) => r.properties?.["Helicone-Session-Id"] || "–" },
  { id: "path", title: "Path", cell: (r) => r.request_path || "–" },
  { id: "cached", title: "Cache hit", sort: "is_cached", cell: (r) => (r.cache_reference_id ? "hit" : "–") },
  { id: "request_id", title: "Request id", cell: (r) => h("code", {}, r.request_id) },
];

const DEFAULT = ["created", "status", "model", "request", "response", "latency", "total_tokens", "cost", "user", "properties"];
const KEY = "helioscope.columns";

// Column choices are not secret, so they outlive the tab (localStorage), unlike keys.
export function chosenColumns() {
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) || "null");
    if (Array.isArray(saved) && saved.length) return COLUMNS.filter((c) => saved.includes(c.id));
  } catch {
    /* a damaged setting falls back to the default */
  }
  return COLUMNS.filter((c) => DEFAULT.includes(c.id));
}

export function saveColumns(ids) {
  localStorage.setItem(KEY, JSON.stringify(ids));
}

export function columnChooser(onChange) {
  const chosen = new Set(chosenColumns().map((c) => c.id));
  const box = h(
    "fieldset",
    { class: "columns-box" },
    h("legend", {}, "Columns to show"),
    COLUMNS.map((c) =>
      h(
        "label",
        { class: "check" },
        h("input", {
          type: "checkbox",
          value: c.id,
          checked: chosen.has(c.id),
          onchange: (e) => {
            if (e.target.checked) chosen.add(c.id);
            else chosen.delete(c.id);
            if (!chosen.size) {
              chosen.add(c.id);
              e.target.checked = true;
            }
            saveColumns(COLUMNS.filter((col) => chosen.has(col.id)).map((col) => col.id));
            onChange();
          },
        }),
        c.title,
      ),
    ),
  );
  const popover = h("details", { class: "popover" }, h("summary", { class: "button ghost" }, "Columns"), box);
  // Closes like a menu: Escape (focus back on its button) or a click elsewhere.
  popover.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && popover.open) {
      popover.open = false;
      popover.querySelector("summary").focus();
    }
  });
  const onDocumentClick = (e) => {
    if (!popover.isConnected) document.removeEventListener("click", onDocumentClick);
    else if (popover.open && !popover.contains(e.target)) popover.open = false;
  };
  document.addEventListener("click", onDocumentClick);
  return popover;
}
