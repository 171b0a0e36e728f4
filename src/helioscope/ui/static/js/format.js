// Number, time and money formatting in the user's locale and time zone.
const numberFmt = new Intl.NumberFormat();
const timeFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

export const num = (v) => (v === null || v === undefined || Number.isNaN(v) ? "–" : numberFmt.format(v));

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
