// One request in full, for the split pane beside a table (Requests, Sessions): the chat, raw
// JSON, tokens, cost, properties, scores and feedback, and what to do next with it.
import { post } from "./api.js";
import { pretty, renderChat } from "./chat.js";
import { h, toast } from "./dom.js";
import { ms, num, scoreEntries, statusClass, time, usd, visibleProperties } from "./format.js";
import { hashOf } from "./url.js";

function kv(rows, cls = "kv") {
  return h(
    "dl",
    { class: cls },
    rows.filter(([, v]) => v !== undefined).map(([k, v]) => [h("dt", {}, k), h("dd", {}, v ?? "–")]),
  );
}

let tabCounter = 0;
export function tabs(panels, label = "Request views") {
  tabCounter += 1;
  const base = `tabs${tabCounter}`;
  const list = h("div", { role: "tablist", class: "tabs", "aria-label": label });
  const bodies = [];
  const select = (i) => {
    list.querySelectorAll("[role=tab]").forEach((t, j) => {
      t.setAttribute("aria-selected", String(i === j));
      t.tabIndex = i === j ? 0 : -1;
    });
    bodies.forEach((b, j) => {
      b.hidden = i !== j;
      if (i === j && !b.firstChild) b.append(panels[j][1]());
    });
  };
  panels.forEach(([name], i) => {
    const tab = h(
      "button",
      {
        role: "tab",
        id: `${base}-t${i}`,
        type: "button",
        "aria-controls": `${base}-p${i}`,
        "aria-selected": "false",
        tabindex: "-1",
      },
      name,
    );
    tab.addEventListener("click", () => select(i));
    tab.addEventListener("keydown", (e) => {
      const by = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
      if (!by) return;
      const next = (i + by + panels.length) % panels.length;
      select(next);
      list.children[next].focus();
    });
    list.append(tab);
    bodies.push(
      h("div", {
        role: "tabpanel",
        id: `${base}-p${i}`,
        "aria-labelledby": `${base}-t${i}`,
        tabindex: "0",
        hidden: true,
      }),
    );
  });
  select(0);
  return h("div", { class: "tab-box" }, list, bodies);
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
      req.feedback_rating = rating;
      show(rating);
    } catch (err) {
      toast(err.message, "error");
    }
  };
  return h(
    "div",
    { class: "row feedback", role: "group", "aria-label": "Feedback" },
    h("button", { type: "button", class: "ghost small", "aria-label": "Rate good", onclick: rate(true) }, "✓ Good"),
    h("button", { type: "button", class: "ghost small", "aria-label": "Rate bad", onclick: rate(false) }, "✗ Bad"),
    state,
  );
}

function propertiesList(req) {
  const box = h("div", { class: "props-box" });
  const internal = Object.keys(req.properties || {}).length - visibleProperties(req.properties).length;
  const draw = (all) => {
    const entries = visibleProperties(req.properties, all);
    box.replaceChildren(
      entries.length ? kv(entries, "kv wrap") : h("p", { class: "muted" }, "No properties."),
      internal
        ? h(
            "button",
            { type: "button", class: "link small", onclick: () => draw(!all) },
            all
              ? "Hide Helicone's internal properties"
              : `Show ${internal} internal propert${internal === 1 ? "y" : "ies"}`,
          )
        : "",
    );
  };
  draw(false);
  return box;
}

function metadata(req) {
  return h(
    "div",
    { class: "detail-meta" },
    kv(
      [
        ["Request id", h("code", {}, req.request_id)],
        ["Created", time(req.request_created_at)],
        ["Response at", time(req.response_created_at)],
        ["Request model", req.request_model || "–"],
        ["Response model", req.response_model || "–"],
        ["Provider", req.provider],
        ["Cache read / write tokens", `${num(req.prompt_cache_read_tokens)} / ${num(req.prompt_cache_write_tokens)}`],
        ["Reasoning tokens", num(req.reasoning_tokens)],
        ["Path", req.request_path || "–"],
        ["Target URL", req.target_url || "–"],
        ["Streamed", req.is_stream ? "yes" : "no"],
        [
          "Cache",
          req.cache_reference_id ? `hit of ${req.cache_reference_id}` : req.cache_enabled ? "enabled, miss" : "off",
        ],
        ["Prompt", req.prompt_id ? `${req.prompt_id} ${req.prompt_version || ""}` : "–"],
        ["Country", req.country_code || "–"],
        ["Error", req.error || "–"],
      ],
      "kv wrap",
    ),
  );
}

function stats(req) {
  const stat = (label, value) =>
    h("div", { class: "mini-stat" }, h("span", { class: "muted" }, label), h("strong", {}, value));
  return h(
    "div",
    { class: "mini-stats" },
    stat("Status", h("span", { class: `status ${statusClass(req.response_status)}` }, String(req.response_status))),
    stat("Latency", ms(req.delay_ms)),
    stat("TTFT", ms(req.time_to_first_token)),
    stat("Tokens", `${num(req.prompt_tokens)} → ${num(req.completion_tokens)}`),
    stat("Cost", usd(req.cost)),
    stat("User", req.request_user_id || "–"),
  );
}

function actions(req) {
  const session = req.properties?.["Helicone-Session-Id"];
  return h(
    "div",
    { class: "row detail-actions" },
    h(
      "a",
      { class: "button ghost small", href: hashOf(["playground"], new URLSearchParams({ request: req.request_id })) },
      "Open in playground",
    ),
    h(
      "button",
      {
        type: "button",
        class: "ghost small",
        onclick: async (e) => {
          e.target.disabled = true;
          try {
            const made = await post(`/v2/experiment/create/from-request/${encodeURIComponent(req.request_id)}`, {});
            location.hash = `#/experiments/${encodeURIComponent(made.experimentId)}`;
          } catch (err) {
            toast(err.message, "error");
            e.target.disabled = false;
          }
        },
      },
      "Experiment from this request",
    ),
    session
      ? h(
          "a",
          {
            class: "button ghost small",
            href: hashOf(["sessions", session], new URLSearchParams({ span: req.request_id })),
          },
          "Open its session",
        )
      : "",
  );
}

/** The detail of one request; nav: {onClose, onPrev, onNext, position} adds a header bar. */
export function requestDetail(req, nav) {
  const scores = scoreEntries(req.scores);
  const head = nav
    ? h(
        "header",
        { class: "pane-head" },
        h("h2", { id: "pane-title", tabindex: "-1" }, `${req.model || "Request"} · ${time(req.request_created_at)}`),
        h("span", { class: "muted small pane-position" }, nav.position || ""),
        h(
          "button",
          {
            type: "button",
            class: "ghost icon",
            "aria-label": "Previous request (K)",
            title: "Previous (K)",
            disabled: !nav.onPrev,
            dataset: { nav: "prev" },
            // Looked up at the click: the page may move the request (a sort, a live refresh).
            onclick: () => nav.onPrev?.(),
          },
          "↑",
        ),
        h(
          "button",
          {
            type: "button",
            class: "ghost icon",
            "aria-label": "Next request (J)",
            title: "Next (J)",
            disabled: !nav.onNext,
            dataset: { nav: "next" },
            onclick: () => nav.onNext?.(),
          },
          "↓",
        ),
        h(
          "button",
          {
            type: "button",
            class: "ghost icon",
            "aria-label": "Close details",
            title: "Close (Esc)",
            onclick: nav.onClose,
          },
          "✕",
        ),
      )
    : "";
  return h(
    "div",
    { class: "request-detail" },
    head,
    stats(req),
    h("section", { "aria-label": "Properties" }, h("h3", {}, "Properties"), propertiesList(req)),
    scores.length ? h("section", { "aria-label": "Scores" }, h("h3", {}, "Scores"), kv(scores, "kv wrap")) : "",
    feedbackControls(req),
    actions(req),
    tabs([
      ["Chat", () => renderChat(req.request_body, req.response_body)],
      ["Details", () => metadata(req)],
      ["Request JSON", () => h("pre", { class: "json" }, pretty(req.request_body))],
      ["Response JSON", () => h("pre", { class: "json" }, pretty(req.response_body))],
    ]),
  );
}
