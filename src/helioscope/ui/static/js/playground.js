// The playground: a chat body's messages, model and parameters, editable, run through this
// server's gateway (so the run is logged like any call). It opens on a logged request
// (#/playground?request=<id>, "Open in playground") or on a prompt version (Prompts page).
import { get } from "./api.js";
import { currentKey } from "./auth.js";
import { renderChat } from "./chat.js";
import { h } from "./dom.js";
import { hashOf } from "./url.js";
import { errorState, loading } from "./states.js";

const ROLES = ["system", "user", "assistant", "developer", "tool"];
const PARAMS = [
  ["temperature", "Temperature", "0.1"],
  ["max_tokens", "Max tokens", "1"],
  ["top_p", "Top p", "0.05"],
];
const ROUTES = {
  OPENAI: { path: "/oai/v1/chat/completions", header: "authorization", form: (k) => `Bearer ${k}` },
  ANTHROPIC: { path: "/anthropic/v1/messages", header: "x-api-key", form: (k) => k },
};
const LEFT_OUT = new Set(["messages", "model", "system", "stream", "stream_options", ...PARAMS.map(([k]) => k)]);

const textOf = (content) => (typeof content === "string" ? content : JSON.stringify(content, null, 2));

/** An editable model of a chat body: OpenAI's messages, or Anthropic's system + messages. */
export function toDraft(body, provider) {
  const b = body && typeof body === "object" ? body : {};
  const messages = [];
  const system = b.system;
  if (system)
    messages.push({
      role: "system",
      text: Array.isArray(system) ? system.map((p) => p.text ?? "").join("\n") : String(system),
    });
  for (const m of Array.isArray(b.messages) ? b.messages : []) {
    if (typeof m === "string") messages.push({ role: "user", text: m, raw: true });
    else
      messages.push({
        role: m.role || "user",
        text: textOf(m.content ?? ""),
        json: typeof m.content !== "string",
        rest: m,
      });
  }
  const params = Object.fromEntries(PARAMS.map(([k]) => [k, b[k] ?? ""]));
  const extra = Object.fromEntries(Object.entries(b).filter(([k]) => !LEFT_OUT.has(k)));
  return { provider: ROUTES[provider] ? provider : "OPENAI", model: b.model || "", messages, params, extra };
}

function content(m) {
  if (!m.json) return m.text;
  try {
    return JSON.parse(m.text);
  } catch {
    return m.text;
  }
}

export function toBody(draft) {
  const params = Object.fromEntries(
    Object.entries(draft.params)
      .filter(([, v]) => v !== "" && v !== null)
      .map(([k, v]) => [k, Number(v)]),
  );
  const message = (m) => ({ ...(m.rest || {}), role: m.role, content: content(m) });
  if (draft.provider === "ANTHROPIC") {
    const system = draft.messages
      .filter((m) => m.role === "system")
      .map((m) => m.text)
      .join("\n\n");
    const rest = draft.messages.filter((m) => m.role !== "system").map(message);
    return {
      ...draft.extra,
      model: draft.model,
      ...(system ? { system } : {}),
      messages: rest,
      max_tokens: 1024,
      ...params,
    };
  }
  return { ...draft.extra, model: draft.model, messages: draft.messages.map(message), ...params };
}

function messageEditor(draft, i, redraw) {
  const m = draft.messages[i];
  const id = `pg-msg-${i}`;
  const label = h("label", { for: id, class: "visually-hidden" }, `Message ${i + 1} (${m.role})`);
  return h(
    "div",
    { class: "pg-message", role: "group", "aria-label": `Message ${i + 1}` },
    h(
      "div",
      { class: "row" },
      h(
        "select",
        {
          "aria-label": `Role of message ${i + 1}`,
          onchange: (e) => {
            m.role = e.target.value;
            label.textContent = `Message ${i + 1} (${m.role})`;
          },
        },
        [...new Set([...ROLES, m.role])].map((r) => h("option", { value: r, selected: r === m.role }, r)),
      ),
      m.json ? h("span", { class: "muted small" }, "content parts (JSON)") : "",
      h(
        "button",
        {
          type: "button",
          class: "ghost small",
          "aria-label": `Remove message ${i + 1}`,
          onclick: () => {
            draft.messages.splice(i, 1);
            redraw();
          },
        },
        "Remove",
      ),
    ),
    label,
    h(
      "textarea",
      {
        id,
        rows: String(Math.min(12, Math.max(2, m.text.split("\n").length + 1))),
        spellcheck: false,
        oninput: (e) => {
          m.text = e.target.value;
        },
      },
      m.text,
    ),
  );
}

/**
 * The editor and its Run button. variables: [[name, type]] shown as inputs; send(draft,
 * values, providerKey) makes the call and returns the fetch Response.
 */
export function playgroundEditor({ draft, variables = [], send, idPrefix = "pg" }) {
  const list = h("div", { class: "pg-messages" });
  const redraw = () => list.replaceChildren(...draft.messages.map((_, i) => messageEditor(draft, i, redraw)));
  redraw();
  const field = (id, label, input) => h("div", { class: "field" }, h("label", { for: id }, label), input);
  const model = h("input", {
    id: `${idPrefix}-model`,
    type: "text",
    value: draft.model,
    oninput: (e) => {
      draft.model = e.target.value;
    },
  });
  const provider = h(
    "select",
    {
      id: `${idPrefix}-provider`,
      onchange: (e) => {
        draft.provider = e.target.value;
      },
    },
    Object.keys(ROUTES).map((p) =>
      h(
        "option",
        { value: p, selected: p === draft.provider },
        p === "OPENAI" ? "OpenAI (chat completions)" : "Anthropic (messages)",
      ),
    ),
  );
  const params = PARAMS.map(([k, label, step]) =>
    field(
      `${idPrefix}-${k}`,
      label,
      h("input", {
        id: `${idPrefix}-${k}`,
        type: "number",
        step,
        value: String(draft.params[k] ?? ""),
        oninput: (e) => {
          draft.params[k] = e.target.value;
        },
      }),
    ),
  );
  const values = new Map();
  const varInputs = variables.map(([name, type]) => {
    const input = h("input", { id: `var-${name}`, type: type === "number" ? "number" : "text", step: "any" });
    values.set(name, [input, type]);
    return field(`var-${name}`, [`${name} `, h("span", { class: "muted" }, type)], input);
  });
  const providerKey = h("input", {
    type: "password",
    id: `${idPrefix}-provider-key`,
    autocomplete: "off",
    placeholder: "sk-… (kept in this page only)",
  });
  const out = h("div", { class: "play-out", "aria-live": "polite" });
  const runBtn = h("button", { type: "submit", class: "primary" }, "Run through the gateway");
  const form = h(
    "form",
    {
      class: "playground",
      onsubmit: async (e) => {
        e.preventDefault();
        const inputs = {};
        for (const [name, [input, type]] of values)
          inputs[name] = type === "number" ? Number(input.value) : input.value;
        runBtn.disabled = true;
        loading(out, "Running…");
        try {
          const response = await send(draft, inputs, providerKey.value);
          const data = await response.json().catch(() => null);
          const requestId = response.headers.get("helicone-id");
          out.replaceChildren(
            h(
              "p",
              { class: "row" },
              h("span", { class: `status ${response.ok ? "ok" : "bad"}` }, String(response.status)),
              requestId
                ? h(
                    "a",
                    { class: "button ghost small", href: hashOf(["requests", requestId]) },
                    "Open the logged request",
                  )
                : "",
            ),
            response.ok ? renderChat(null, data) : h("pre", { class: "json" }, JSON.stringify(data, null, 2)),
          );
        } catch (err) {
          out.replaceChildren(errorState(err));
        } finally {
          out.setAttribute("aria-busy", "false");
          runBtn.disabled = false;
        }
      },
    },
    h(
      "div",
      { class: "pg-settings" },
      field(`${idPrefix}-model`, "Model", model),
      field(`${idPrefix}-provider`, "Provider route", provider),
      params,
    ),
    h("h3", {}, "Messages"),
    list,
    h(
      "button",
      {
        type: "button",
        class: "ghost small",
        onclick: () => {
          draft.messages.push({ role: "user", text: "" });
          redraw();
          list.lastChild?.querySelector("textarea")?.focus();
        },
      },
      "+ Message",
    ),
    variables.length ? [h("h3", {}, "Variables"), varInputs] : "",
    field(
      `${idPrefix}-provider-key`,
      ["Provider API key ", h("span", { class: "muted" }, "(sent to the provider through the gateway, never stored)")],
      providerKey,
    ),
    runBtn,
  );
  return h("div", {}, form, out);
}

/** Posts a draft's body to its provider's gateway route as the signed-in organization. */
export function sendDraft(draft, providerKey, body = toBody(draft)) {
  const route = ROUTES[draft.provider];
  const headers = { "content-type": "application/json", "helicone-auth": `Bearer ${currentKey().key}` };
  if (providerKey) headers[route.header] = route.form(providerKey);
  return fetch(route.path, { method: "POST", headers, body: JSON.stringify(body) });
}

export async function renderPlayground(main, { params }) {
  const requestId = params.get("request");
  main.append(h("div", { class: "page-head" }, h("h1", {}, "Playground")));
  const body = h("div", { "aria-busy": "true" });
  main.append(body);
  if (!requestId) {
    body.append(
      h("p", { class: "empty" }, "Open a request and choose “Open in playground”, or open a prompt version."),
    );
    return;
  }
  loading(body);
  try {
    const req = await get(`/v1/helioscope/requests/${encodeURIComponent(requestId)}`);
    const draft = toDraft(req.request_body, req.provider);
    body.replaceChildren(
      h(
        "p",
        {},
        "Replaying ",
        h("a", { href: hashOf(["requests", requestId]) }, `request ${requestId}`),
        `, sent to ${req.provider} with ${req.model}. Edit anything, then run it.`,
      ),
      h("section", { class: "card" }, playgroundEditor({ draft, send: (d, _v, key) => sendDraft(d, key) })),
    );
  } catch (err) {
    body.replaceChildren(errorState(err, () => renderPlaygroundAgain(main, params)));
  } finally {
    body.setAttribute("aria-busy", "false");
  }
}

function renderPlaygroundAgain(main, params) {
  main.replaceChildren();
  return renderPlayground(main, { params });
}
