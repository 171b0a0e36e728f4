// Settings: API keys (create with a scope, rename, revoke), provider keys, webhooks and alerts.
import { call, get, post } from "./api.js";
import { addKey, currentKey } from "./auth.js";
import { clear, h, toast } from "./dom.js";
import { decimal, time, usd } from "./format.js";
import { providerKeysSection } from "./providerkeys.js";
import { confirmButton, table } from "./sections.js";
import { errorState } from "./states.js";

// The scopes as the API enforces them (helioscope.api.access): w changes state but reads nothing.
const SCOPES = [
  ["rw", "All: read, write, and manage keys, webhooks and alerts"],
  ["r", "Read only"],
  ["w", "Write only: proxy, log and change, without reading"],
];

async function keysSection(section) {
  const keys = await get("/v1/api-keys");
  const name = h("input", {
    id: "key-name",
    type: "text",
    required: true,
    maxlength: "200",
    placeholder: "e.g. production backend",
  });
  const scope = h(
    "select",
    { id: "key-scope" },
    SCOPES.map(([v, t]) => h("option", { value: v }, t)),
  );
  const created = h("div", { "aria-live": "polite" });
  const reload = () => keysSection(section);
  const rows = keys.map((k) => {
    const nameCell = h("td", {}, k.api_key_name);
    const rename = () => {
      const input = h("input", {
        type: "text",
        value: k.api_key_name,
        "aria-label": `New name for ${k.api_key_name}`,
        required: true,
        maxlength: "200",
      });
      clear(nameCell).append(
        h(
          "form",
          {
            class: "row inline",
            onsubmit: async (e) => {
              e.preventDefault();
              try {
                await call("PATCH", `/v1/api-keys/${k.id}`, { api_key_name: input.value.trim() });
                await reload();
              } catch (err) {
                toast(err.message, "error");
              }
            },
          },
          input,
          h("button", { type: "submit", class: "ghost small" }, "Save"),
        ),
      );
      input.focus();
    };
    return h(
      "tr",
      { "data-key": k.api_key_name },
      nameCell,
      h("td", {}, SCOPES.find(([v]) => v === k.key_permissions)?.[1] || k.key_permissions),
      h("td", {}, time(k.created_at)),
      h(
        "td",
        {},
        h(
          "div",
          { class: "row" },
          h(
            "button",
            { type: "button", class: "ghost small", "aria-label": `Rename ${k.api_key_name}`, onclick: rename },
            "Rename",
          ),
          confirmButton("Revoke", "Really revoke?", `Revoke ${k.api_key_name}`, async () => {
            await call("DELETE", `/v1/api-keys/${k.id}`);
            toast(`Revoked ${k.api_key_name}`);
            await reload();
          }),
        ),
      ),
    );
  });
  clear(section).append(
    h("h2", { id: "keys-title" }, "API keys"),
    table("API keys", ["Name", "Scope", "Created", "Actions"], rows, "No keys."),
    h(
      "form",
      {
        class: "row add-form",
        "aria-label": "Create an API key",
        onsubmit: async (e) => {
          e.preventDefault();
          try {
            const made = await post("/v1/api-keys", { api_key_name: name.value.trim(), key_permissions: scope.value });
            await keysSection(section);
            section.querySelector("[aria-live]").append(
              h(
                "div",
                { class: "new-key card" },
                h("p", {}, h("strong", {}, "Copy this key now: "), "it is shown only once."),
                h("code", { class: "secret", id: "new-key-value" }, made.apiKey),
                h(
                  "div",
                  { class: "row" },
                  h(
                    "button",
                    {
                      type: "button",
                      class: "ghost small",
                      onclick: () =>
                        navigator.clipboard?.writeText(made.apiKey).then(
                          () => toast("Copied"),
                          () => toast("Copy failed", "error"),
                        ),
                    },
                    "Copy",
                  ),
                  h(
                    "button",
                    {
                      type: "button",
                      class: "ghost small",
                      onclick: () => addKey(made.apiKey, `${currentKey().label} (${name.value.trim() || "new key"})`),
                    },
                    "Sign in with it too",
                  ),
                ),
              ),
            );
          } catch (err) {
            toast(err.message, "error");
          }
        },
      },
      h("label", { for: "key-name" }, "Name"),
      name,
      h("label", { for: "key-scope" }, "Scope"),
      scope,
      h("button", { type: "submit", class: "primary" }, "Create key"),
    ),
    created,
  );
}

async function webhooksSection(section, onChange) {
  const hooks = await get("/v1/webhooks");
  const dest = h("input", {
    id: "hook-dest",
    type: "url",
    required: true,
    placeholder: "https://example.com/helioscope",
  });
  const rate = h("input", { id: "hook-rate", type: "number", min: "0", max: "100", step: "any", value: "100" });
  const propKey = h("input", { id: "hook-prop-key", type: "text", placeholder: "property (optional)" });
  const propVal = h("input", { id: "hook-prop-value", type: "text", placeholder: "value" });
  const data = h("input", { id: "hook-data", type: "checkbox", checked: true });
  const reload = () => webhooksSection(section, onChange);
  const rows = hooks.map((w) => {
    const cfg = JSON.parse(w.config || "{}");
    const secret = h("code", { class: "secret", hidden: true }, w.hmac_key);
    return h(
      "tr",
      {},
      h("td", {}, h("code", {}, w.destination)),
      h("td", {}, `${cfg.sampleRate ?? 100}%`),
      h("td", {}, (cfg.propertyFilters || []).map((f) => `${f.key} = ${f.value}`).join(", ") || "–"),
      h("td", {}, cfg.includeData === false ? "no" : "yes"),
      h(
        "td",
        {},
        h(
          "button",
          {
            type: "button",
            class: "ghost small",
            onclick: (e) => {
              secret.hidden = !secret.hidden;
              e.target.textContent = secret.hidden ? "Show" : "Hide";
            },
          },
          "Show",
        ),
        " ",
        secret,
      ),
      h(
        "td",
        {},
        h(
          "div",
          { class: "row" },
          h(
            "button",
            {
              type: "button",
              class: "ghost small",
              onclick: async () => {
                try {
                  await post(`/v1/webhooks/${w.id}/test`, {});
                  toast("Test delivery sent");
                } catch (err) {
                  toast(err.message, "error");
                }
              },
            },
            "Test",
          ),
          confirmButton("Delete", "Really delete?", `Delete webhook ${w.destination}`, async () => {
            await call("DELETE", `/v1/webhooks/${w.id}`);
            await reload();
            onChange();
          }),
        ),
      ),
    );
  });
  clear(section).append(
    h("h2", {}, "Webhooks"),
    h(
      "p",
      { class: "muted" },
      "Every logged call is POSTed to these URLs, signed with HMAC-SHA256 using the signing key.",
    ),
    table(
      "Webhooks",
      ["Destination", "Sample rate", "Property filter", "Include bodies", "Signing key", "Actions"],
      rows,
      "No webhooks.",
    ),
    h(
      "form",
      {
        class: "row add-form",
        "aria-label": "Add a webhook",
        onsubmit: async (e) => {
          e.preventDefault();
          const config = {
            sampleRate: Number(rate.value),
            includeData: data.checked,
            propertyFilters: propKey.value.trim() ? [{ key: propKey.value.trim(), value: propVal.value }] : [],
          };
          try {
            await post("/v1/webhooks", { destination: dest.value.trim(), config });
            toast("Webhook added");
            await reload();
            onChange();
          } catch (err) {
            toast(err.message, "error");
          }
        },
      },
      h("label", { for: "hook-dest" }, "URL"),
      dest,
      h("label", { for: "hook-rate" }, "Sample %"),
      rate,
      h("label", { for: "hook-prop-key" }, "Only when property"),
      propKey,
      h("label", { for: "hook-prop-value", class: "visually-hidden" }, "equals value"),
      propVal,
      h("label", { class: "check", for: "hook-data" }, data, "Include bodies"),
      h("button", { type: "submit", class: "primary" }, "Add webhook"),
    ),
  );
  return hooks;
}

// Refilled in place when webhooks change, so a half-filled alert form is never wiped.
function setHookOptions(select, hooks) {
  const chosen = select.value;
  clear(select).append(
    h("option", { value: "" }, "none"),
    ...hooks.map((w) => h("option", { value: w.id, selected: w.id === chosen }, w.destination)),
  );
}

async function alertsSection(section, hooks) {
  const { alerts, history } = await get("/v1/alert/query");
  const name = h("input", { id: "alert-name", type: "text", required: true });
  const metric = h(
    "select",
    { id: "alert-metric" },
    h("option", { value: "response.status" }, "Error rate (%)"),
    h("option", { value: "cost" }, "Cost (USD)"),
  );
  const threshold = h("input", { id: "alert-threshold", type: "number", min: "0", step: "any", required: true });
  const windowMin = h("input", { id: "alert-window", type: "number", min: "1", value: "60", required: true });
  const minReq = h("input", { id: "alert-min", type: "number", min: "0", value: "0" });
  const hook = h("select", { id: "alert-hook" });
  setHookOptions(hook, hooks);
  const reload = () => alertsSection(section, hooks);
  const rows = alerts.map((a) =>
    h(
      "tr",
      {},
      h("td", {}, a.name),
      h("td", {}, a.metric === "cost" ? "Cost" : "Error rate"),
      h("td", {}, a.metric === "cost" ? usd(a.threshold) : `${decimal(a.threshold)}%`),
      h("td", {}, `${Math.round(a.time_window / 60000)} min`),
      h("td", {}, h("span", { class: `status ${a.status === "triggered" ? "bad" : "ok"}` }, a.status)),
      h(
        "td",
        {},
        confirmButton("Delete", "Really delete?", `Delete alert ${a.name}`, async () => {
          await call("DELETE", `/v1/alert/${a.id}`);
          await reload();
        }),
      ),
    ),
  );
  const past = history
    .slice(0, 20)
    .map((x) =>
      h(
        "tr",
        {},
        h("td", {}, x.alert_name),
        h(
          "td",
          { class: "num" },
          x.alert_metric === "cost" ? usd(x.triggered_value) : `${decimal(x.triggered_value)}%`,
        ),
        h("td", {}, x.status),
        h("td", {}, time(x.alert_start_time)),
        h("td", {}, time(x.alert_end_time)),
      ),
    );
  clear(section).append(
    h("h2", {}, "Alerts"),
    table("Alerts", ["Name", "Metric", "Threshold", "Window", "Status", "Actions"], rows, "No alerts."),
    h(
      "form",
      {
        class: "row add-form",
        "aria-label": "Create an alert",
        onsubmit: async (e) => {
          e.preventDefault();
          try {
            await post("/v1/alert/create", {
              name: name.value.trim(),
              metric: metric.value,
              threshold: Number(threshold.value),
              time_window: Number(windowMin.value) * 60000,
              minimum_request_count: Number(minReq.value || 0),
              webhook_id: hook.value || null,
            });
            toast("Alert created");
            await reload();
          } catch (err) {
            toast(err.message, "error");
          }
        },
      },
      h("label", { for: "alert-name" }, "Name"),
      name,
      h("label", { for: "alert-metric" }, "Metric"),
      metric,
      h("label", { for: "alert-threshold" }, "Threshold"),
      threshold,
      h("label", { for: "alert-window" }, "Window (min)"),
      windowMin,
      h("label", { for: "alert-min" }, "Min requests"),
      minReq,
      h("label", { for: "alert-hook" }, "Notify webhook"),
      hook,
      h("button", { type: "submit", class: "primary" }, "Create alert"),
    ),
    h("h3", {}, "History"),
    table("Alert history", ["Alert", "Value", "Status", "Started", "Ended"], past, "No alert has fired."),
  );
}

export async function renderSettings(main) {
  const keys = h("section", { class: "card settings-section", id: "keys" });
  const providerKeys = h("section", { class: "card settings-section", id: "provider-keys" });
  const hooks = h("section", { class: "card settings-section", id: "webhooks" });
  const alerts = h("section", { class: "card settings-section", id: "alerts" });
  main.append(h("div", { class: "page-head" }, h("h1", {}, "Settings")), keys, providerKeys, hooks, alerts);
  const guard = (section) => (err) => {
    // Managing keys and hooks needs a read-and-write key; say so instead of an empty page.
    clear(section).append(
      errorState(err, () => {
        main.replaceChildren();
        renderSettings(main);
      }),
    );
  };
  await keysSection(keys).catch(guard(keys));
  await providerKeysSection(providerKeys).catch(guard(providerKeys));
  const onHooksChanged = async () => {
    const select = alerts.querySelector("#alert-hook");
    if (select) setHookOptions(select, await get("/v1/webhooks"));
  };
  const list = await webhooksSection(hooks, () => onHooksChanged().catch(() => {})).catch((err) => {
    guard(hooks)(err);
    return [];
  });
  await alertsSection(alerts, list).catch(guard(alerts));
}
