// Export of the filtered set as CSV or JSONL, paging through POST /v1/request/query.
import { post } from "./api.js";
import { h, toast } from "./dom.js";
import { and } from "./filters.js";

const PAGE = 500;
const CSV_FIELDS = [
  "request_id",
  "request_created_at",
  "response_status",
  "provider",
  "model",
  "request_user_id",
  "delay_ms",
  "time_to_first_token",
  "prompt_tokens",
  "completion_tokens",
  "total_tokens",
  "cost",
  "request_path",
  "cache_reference_id",
  "feedback_rating",
  "properties",
  "scores",
  "request_body",
  "response_body",
];

// A spreadsheet runs a cell that starts with = + - @ (or tab / carriage return) as a formula
// (=HYPERLINK(...) leaks data). As OWASP recommends, such text gets a leading ' so it stays
// text; numbers the export itself writes (a status of -2, a cost) are left as numbers.
const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(value) {
  if (value === null || value === undefined) return "";
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  let text = typeof value === "object" ? JSON.stringify(value) : String(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function download(parts, name, type) {
  const url = URL.createObjectURL(new Blob(parts, { type }));
  const a = h("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// Pages through the set frozen at the moment export starts, so rows logged meanwhile
// do not shift the offsets and duplicate a row across pages.
export async function exportRequests(filter, format, sort) {
  const frozen = and(filter, { request_response_rmt: { request_created_at: { lte: new Date().toISOString() } } });
  const { total } = await post("/v1/helioscope/requests/query", {
    filter: frozen,
    limit: 1,
    count: true,
    includeBodies: false,
  });
  const controller = new AbortController();
  const bar = h("progress", { max: String(Math.max(total, 1)), value: "0", "aria-label": "Export progress" });
  const label = h("p", { "aria-live": "polite" }, `0 of ${total.toLocaleString()} requests`);
  const dialog = h(
    "dialog",
    { class: "card export-dialog", "aria-labelledby": "export-title" },
    h("h2", { id: "export-title" }, `Exporting ${format.toUpperCase()}`),
    bar,
    label,
    h("button", { type: "button", class: "ghost", onclick: () => controller.abort() }, "Cancel"),
  );
  document.body.append(dialog);
  dialog.showModal();
  dialog.addEventListener("cancel", () => controller.abort());
  const parts = format === "csv" ? [`${CSV_FIELDS.join(",")}\n`] : [];
  let done = 0;
  try {
    for (let offset = 0; offset < total; offset += PAGE) {
      const { requests: rows } = await post(
        "/v1/helioscope/requests/query",
        { filter: frozen, offset, limit: PAGE, sort },
        { signal: controller.signal },
      );
      for (const row of rows) {
        parts.push(
          format === "csv" ? `${CSV_FIELDS.map((f) => csvCell(row[f])).join(",")}\n` : `${JSON.stringify(row)}\n`,
        );
      }
      done += rows.length;
      bar.value = done;
      label.textContent = `${done.toLocaleString()} of ${total.toLocaleString()} requests`;
      if (rows.length < PAGE) break;
    }
    const stamp = new Date().toISOString().replace(/[:.]/g, "-");
    download(parts, `requests-${stamp}.${format}`, format === "csv" ? "text/csv" : "application/x-ndjson");
    toast(`Exported ${done.toLocaleString()} requests`);
  } catch (err) {
    if (err.name !== "AbortError") toast(err.message, "error");
  } finally {
    dialog.close();
    dialog.remove();
  }
}
