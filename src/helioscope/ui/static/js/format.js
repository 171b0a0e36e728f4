// Number, time and money formatting in the user's locale and time zone; which keys are internal.
const numberFmt = new Intl.NumberFormat();
const decimalFmt = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
const timeFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
const shortTimeFmt = new Intl.DateTimeFormat(undefined, {
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});

export const num = (v) => (v === null || v === undefined || Number.isNaN(v) ? "–" : numberFmt.format(v));

/** A measured value (a rate, a score): at most two decimals, in the user's locale. */
export const decimal = (v) =>
  v === null || v === undefined || Number.isNaN(Number(v)) ? "–" : decimalFmt.format(Number(v));

export function usd(v) {
  if (v === null || v === undefined) return "–";
  if (v === 0) return "$0";
  const digits = Math.abs(v) < 0.01 ? 6 : Math.abs(v) < 1 ? 4 : 2;
  return `$${v.toFixed(digits)}`;
}

export function ms(v) {
  if (v === null || v === undefined) return "–";
  return v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${Math.round(v)} ms`;
}

export function time(iso) {
  if (!iso) return "–";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : timeFmt.format(d);
}

export function shortTime(iso) {
  if (!iso) return "–";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : shortTimeFmt.format(d);
}

export function shortId(id) {
  return id && id.length > 12 ? `${id.slice(0, 8)}…` : id || "";
}

export function truncate(text, n = 120) {
  if (!text) return "";
  const flat = String(text).replace(/\s+/g, " ").trim();
  return flat.length > n ? `${flat.slice(0, n - 1)}…` : flat;
}

export function statusClass(status) {
  if (status >= 200 && status < 300) return "ok";
  if (status === 0 || status === -1) return "pending";
  return "bad";
}

// Helicone's own keys (sessions, experiments, prompt ids, feedback...) are plumbing, not the
// user's properties: hidden unless asked for, and still filterable by name.
export const isInternalKey = (key) => /^helicone-/i.test(key);

export function visibleProperties(map, showInternal = false) {
  return Object.entries(map || {}).filter(([k]) => showInternal || !isInternalKey(k));
}

export const BOOL_SUFFIX = "-hcone-bool";

// The rating is also this score (as in Helicone); it is shown as feedback, not among the scores.
const FEEDBACK_SCORE = "helicone-score-feedback";

/** Scores as people read them: a stored "x-hcone-bool" = 1 is "x: true". */
export function scoreEntries(map) {
  return Object.entries(map || {})
    .filter(([k]) => k !== FEEDBACK_SCORE)
    .map(([k, v]) =>
      k.endsWith(BOOL_SUFFIX) ? [k.slice(0, -BOOL_SUFFIX.length), Number(v) ? "true" : "false"] : [k, decimal(v)],
    );
}
