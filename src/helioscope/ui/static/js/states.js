// Loading, error and empty states, the same on every page: an error says what went wrong in
// words and offers Retry; the server's own text stays one click away.
import { clear, h } from "./dom.js";

export function friendly(err) {
  const raw = String(err?.message || err || "");
  if (err?.status === 0) return "Helioscope is unreachable. Check that the server is running, then retry.";
  if (/database is locked|busy|could not serialize|deadlock/i.test(raw)) {
    return "The database is busy right now. Retry in a moment.";
  }
  if (err?.status === 401) return "This API key is no longer valid. Sign in again.";
  if (err?.status === 403) return "This key's scope does not allow this. Use a key that can read and write.";
  if (err?.status >= 500) return `The server could not answer (HTTP ${err.status}). Retry in a moment.`;
  return raw || "Something went wrong.";
}

export function loading(el, text = "Loading…") {
  el.setAttribute("aria-busy", "true");
  clear(el).append(
    h("p", { class: "loading muted", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }), text),
  );
}

export function errorState(err, retry) {
  const message = friendly(err);
  const raw = String(err?.message || "");
  return h(
    "div",
    { class: "error-state", role: "alert" },
    h("p", {}, h("strong", {}, "Could not load this. "), message),
    raw && raw !== message ? h("details", {}, h("summary", {}, "Details"), h("code", {}, raw)) : "",
    retry ? h("button", { type: "button", class: "ghost small", onclick: retry }, "Retry") : "",
  );
}

export function failure(el, err, retry) {
  clear(el).append(errorState(err, retry));
  el.setAttribute("aria-busy", "false");
}

export function emptyState(text, ...more) {
  return h("div", { class: "empty" }, h("p", {}, text), more);
}

// Each element's newest load: an older one answering later (a slower search, a wider range)
// must not paint over it.
const newest = new WeakMap();

/**
 * Show loading, then render(data) or an error with Retry. Aborted loads leave the element be,
 * and so does a load overtaken by a newer one into the same element, or one whose element
 * left the page meanwhile (the user moved on: its drawing would write its state, such as a
 * prompt's chosen versions, into the next page's URL).
 */
export async function loadInto(el, fetcher, render, { quiet = false } = {}) {
  const mine = {};
  newest.set(el, mine);
  if (!quiet) loading(el);
  try {
    const data = await fetcher();
    if (newest.get(el) !== mine || !el.isConnected) return;
    clear(el);
    await render(data);
  } catch (err) {
    if (err?.name === "AbortError" || newest.get(el) !== mine) return;
    failure(el, err, () => loadInto(el, fetcher, render));
  } finally {
    if (newest.get(el) === mine) el.setAttribute("aria-busy", "false");
  }
}
