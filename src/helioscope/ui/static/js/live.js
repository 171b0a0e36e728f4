// Live tail by polling: every 2 s (while the tab is visible) the page asks the server how many
// requests matching its filter arrived after the newest it has seen (/v1/helioscope/requests/
// news, one indexed count), and reloads only when there are some. Polling keeps the server
// stateless (no connection held per tab, no fan-out across workers); bench/live_tail.py
// measures what a poll costs.
import { post } from "./api.js";
import { h } from "./dom.js";
import { num } from "./format.js";

export const POLL_MS = 2000;

/**
 * A "Live" toggle. filter(): the filter tree to watch; refresh(): reload the view; paused():
 * true while the user scrolls or selects (new rows wait, counted); signal: the page's, which
 * stops polling when the page is left. Returns {element, stop}.
 */
export function liveControl({ on, onToggle, filter, refresh, paused, signal }) {
  const status = h("span", { class: "live-status muted", "aria-live": "polite" });
  const button = h(
    "button",
    { type: "button", class: "ghost live-toggle", "aria-pressed": String(on) },
    h("span", { class: "live-dot", "aria-hidden": "true" }),
    "Live",
  );
  let timer = null;
  let since = null;
  let busy = false;

  async function tick() {
    if (busy || document.hidden) return;
    busy = true;
    try {
      const news = await post("/v1/helioscope/requests/news", {
        filter: filter(),
        since: since || "1970-01-01T00:00:00Z",
      });
      if (since === null) {
        since = news.latest || "1970-01-01T00:00:00Z";
      } else if (news.count > 0) {
        if (paused()) {
          status.textContent = `${num(news.count)}${news.capped ? "+" : ""} new · paused while you scroll or select`;
        } else {
          since = news.latest;
          status.textContent = "";
          await refresh();
        }
      } else {
        status.textContent = "";
      }
    } catch {
      status.textContent = "Live paused: the server did not answer";
    } finally {
      busy = false;
    }
  }

  function start() {
    since = null;
    tick();
    timer = setInterval(tick, POLL_MS);
  }
  function stop() {
    clearInterval(timer);
    timer = null;
    status.textContent = "";
  }
  button.addEventListener("click", () => {
    const next = button.getAttribute("aria-pressed") !== "true";
    button.setAttribute("aria-pressed", String(next));
    if (next) start();
    else stop();
    onToggle(next);
  });
  if (on) start();
  // The page was left (even mid-load): polling stops with it.
  signal?.addEventListener("abort", stop);
  return {
    element: h("span", { class: "live row inline" }, button, status),
    stop,
  };
}
