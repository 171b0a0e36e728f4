// The request detail drawer: chat, raw JSON, tokens, cost, properties, scores and feedback.
import { get, post } from "./api.js";
import { pretty, renderChat } from "./chat.js";
import { clear, h, toast } from "./dom.js";
import { ms, num, statusClass, time, usd } from "./format.js";

let lastFocus = null;

export function closeDrawer() {
  const root = document.getElementById("drawer-root");
  if (!root.firstChild) return;
  clear(root);
  document.removeEventListener("keydown", onKey);
  lastFocus?.focus?.();
}

function onKey(event) {
  if (event.key === "Escape") {
    closeDrawer();
    return;
  }
  if (event.key !== "Tab") return;
  // A modal dialog keeps focus inside until it is closed.
  const panel = document.querySelector("#drawer-root .drawer");
  if (!panel) return;
  const focusable = [...panel.querySelectorAll("button, a[href], input, select, textarea, [tabindex]:not([tabindex='-1'])")].filter((el) => !el.disabled && el.offsetParent !== null);
  if (!focusable.length) return;
  const first = focusable[0];
  const last = focusable[focusable.length - 1];
  if (event.shiftKey && document.activeElement === first) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && (document.activeElement === last || !panel.contains(document.activeElement))) {
    event.preventDefault();
    first.focus();
  }
}

function kv(rows) {
  return h(
    "dl",
    { class: "kv" },
    rows.filter(([, v]) => v !== undefined).map(([k, v]) => [h("dt", {}, k), h("dd", {}, v ?? "–")]),
  );
}

function mapTable(caption, map, empty) {
  const entries = Object.entries(map || {});
  if (!entries.length) return h("section", {}, h("h3", {}, caption), h("p", { class: "muted" }, empty));
  return h(
    "section",
    {},
    h("h3", {}, caption),
    h(
      "table",
      { class: "mini" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Name"), h("th", { scope: "col" }, "Value"))),
      h("tbody", {}, entries.map(([k, v]) => h("tr", {}, h("th", { scope: "row" }, k), h("td", {}, String(v))))),
    ),
  );
}

function tabs(panels) {
  const list = h("div", { role: "tablist", class: "tabs", "aria-label": "Request views" });
  const bodies = [];
  panels.forEach(([name, render], i) => {
    const tabId = `tab-${i}`;
    const panelId = `panel-${i}`;
    const tab = h(
      "button",
      { role: "tab", id: tabId, type: "button", "aria-controls": panelId, "aria-selected": String(i === 0), tabindex: i === 0 ? "0" : "-1" },
      name,
    );
    const panel = h("div", { role: "tabpanel", id: panelId, "aria-labelledby": tabId, hidden: i !== 0, tabindex: "0" });
    let rendered = false;
    const show = () => {
      if (!rendered) {
        panel.append(render());
        rendered = true;
      }
    };
    if (i === 0) show();
    tab.addEventListener("click", () => {
      list.querySelectorAll("[role=tab]").forEach((t) => {
        t.setAttribute("aria-selected", "false");
        t.tabIndex = -1;
      });
      bodies.forEach((b) => (b.hidden = true));
      tab.setAttribute("aria-selected", "true");
      tab.tabIndex = 0;
      panel.hidden = false;
      show();
    });
    tab.addEventListener("keydown", (e) => {
      const tabsEls = [...list.querySelectorAll("[role=tab]")];
      const at = tabsEls.indexOf(tab);
      const to = e.key === "ArrowRight" ? at + 1 : e.key === "ArrowLeft" ? at - 1 : null;
      if (to === null) return;
      const next = tabsEls[(to + tabsEls.length) % tabsEls.length];
      next.focus();
      next.click();
    });
    list.append(tab);
    bodies.push(panel);
  });
  return h("div", {}, list, bodies);
}

function feedbackControls(req) {
  const state = h("span", { class: "muted", "aria-live": "polite" });
  const show = (rating) => {
    state.textContent = rating === true ? "Rated good" : rating === false ? "Rated bad" : "Not rated";
  };
  show(req.feedback_rating);
  const rate = (rating) => async () => {
    try {
      await post(`/v1/request/${encodeURIComponent(req.request_id)}/feedback`, { rating });
      show(rating);
    } catch (err) {
      toast(err.message, "error");
    }
  };
  return h(
    "div",
    { class: "row feedback", role: "group", "aria-label": "Feedback" },
    h("span", { class: "muted" }, "Feedback"),
    h("button", { type: "button", class: "ghost small", "aria-label": "Rate good", onclick: rate(true) }, "✓ Good"),
    h("button", { type: "button", class: "ghost small", "aria-label": "Rate bad", onclick: rate(false) }, "✗ Bad"),
    state,
  );
}

function metadata(req) {
  return h(
    "div",
    { class: "drawer-body" },
    kv([
      ["Request id", h("code", {}, req.request_id)],
      ["Created", time(req.request_created_at)],
      ["Response at", time(req.response_created_at)],
      ["Status", h("span", { class: `status ${statusClass(req.response_status)}` }, String(req.response_status))],
      ["Request model", req.request_model || "–"],
      ["Response model", req.response_model || "–"],
      ["Provider", req.provider],
      ["User", req.request_user_id || "–"],
      ["Latency", ms(req.delay_ms)],
      ["Time to first token", ms(req.time_to_first_token)],
      ["Prompt tokens", num(req.prompt_tokens)],
      ["Completion tokens", num(req.completion_tokens)],
      ["Total tokens", num(req.total_tokens)],
      ["Cache read / write tokens", `${num(req.prompt_cache_read_tokens)} / ${num(req.prompt_cache_write_tokens)}`],
      ["Reasoning tokens", num(req.reasoning_tokens)],
      ["Cost", usd(req.cost)],
      ["Path", req.request_path || "–"],
      ["Target URL", req.target_url || "–"],
      ["Streamed", req.is_stream ? "yes" : "no"],
      ["Cache", req.cache_reference_id ? `hit of ${req.cache_reference_id}` : req.cache_enabled ? "enabled, miss" : "off"],
      ["Prompt", req.prompt_id ? `${req.prompt_id} ${req.prompt_version || ""}` : "–"],
      ["Country", req.country_code || "–"],
    ]),
    mapTable("Properties", req.properties, "No properties."),
    mapTable("Scores", req.scores, "No scores."),
  );
}

function summary(req) {
  const stat = (label, value) => h("div", { class: "mini-stat" }, h("span", { class: "muted" }, label), h("strong", {}, value));
  const chips = (map, cls) =>
    Object.entries(map || {}).map(([k, v]) => h("span", { class: `chip ${cls}` }, `${k}: ${v}`));
  return h(
    "div",
    { class: "drawer-summary" },
    h(
      "div",
      { class: "mini-stats" },
      stat("Status", h("span", { class: `status ${statusClass(req.response_status)}` }, String(req.response_status))),
      stat("Latency", ms(req.delay_ms)),
      stat("TTFT", ms(req.time_to_first_token)),
      stat("Tokens", `${num(req.prompt_tokens)} → ${num(req.completion_tokens)}`),
      stat("Cost", usd(req.cost)),
      stat("User", req.request_user_id || "–"),
    ),
    h("div", { class: "chips", "aria-label": "Properties and scores" }, chips(req.properties, ""), chips(req.scores, "score")),
    feedbackControls(req),
  );
}

export async function openDrawer(requestId, { preloaded } = {}) {
  lastFocus = document.activeElement;
  const root = clear(document.getElementById("drawer-root"));
  const title = h("h2", { id: "drawer-title" }, "Request");
  const closeBtn = h("button", { type: "button", class: "ghost icon", "aria-label": "Close details", onclick: closeDrawer }, "✕");
  const content = h("div", { class: "drawer-content" }, h("p", { class: "muted" }, "Loading…"));
  const panel = h(
    "aside",
    { class: "drawer", role: "dialog", "aria-modal": "true", "aria-labelledby": "drawer-title", tabindex: "-1" },
    h("header", { class: "drawer-head" }, title, closeBtn),
    content,
  );
  root.append(h("div", { class: "scrim", onclick: closeDrawer }), panel);
  document.addEventListener("keydown", onKey);
  closeBtn.focus();
  let req = preloaded;
  try {
    req = await get(`/v1/request/${encodeURIComponent(requestId)}`);
  } catch (err) {
    if (!req) {
      clear(content).append(h("p", { class: "form-error", role: "alert" }, err.message));
      return;
    }
  }
  title.textContent = `${req.model || "Request"} · ${time(req.request_created_at)}`;
  const actions = h(
    "div",
    { class: "row" },
    h(
      "button",
      {
        type: "button",
        class: "ghost small",
        onclick: async () => {
          // Imported on demand: the drawer stays usable on pages that never need experiments.
          const { experimentFromRequest } = await import("./experiments.js");
          try {
            await experimentFromRequest(req.request_id);
            closeDrawer();
          } catch (err) {
            toast(err.message, "error");
          }
        },
      },
      "Experiment from this request",
    ),
    req.properties?.["Helicone-Session-Id"]
      ? h("a", { class: "button ghost small", href: `#/sessions/${encodeURIComponent(req.properties["Helicone-Session-Id"])}`, onclick: () => closeDrawer() }, "Open its session")
      : "",
  );
  clear(content).append(
    summary(req),
    actions,
    tabs([
      ["Chat", () => renderChat(req.request_body, req.response_body)],
      ["Details", () => metadata(req)],
      ["Request JSON", () => h("pre", { class: "json" }, pretty(req.request_body))],
      ["Response JSON", () => h("pre", { class: "json" }, pretty(req.response_body))],
      ["Whole record", () => h("pre", { class: "json" }, pretty(req))],
    ]),
  );
}
