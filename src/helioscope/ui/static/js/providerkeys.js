// Settings: provider keys (BYOK), which the AI Gateway uses to route a `model` to its provider.
// The list comes from /v1/api-keys/provider-keys, which never returns a key; the vault routes that
// answer decrypted keys are never called here. A typed key goes out in a JSON body only: its input
// has no `name` (a form that did submit natively would not send it) and is emptied on submit.
import { call, get, post } from "./api.js";
import { clear, h, toast } from "./dom.js";
import { time } from "./format.js";
import { confirmButton, table } from "./sections.js";

// The providers the API accepts (helioscope.providers.catalog.PROVIDERS, pinned by
// tests/ui/test_static.py), with those that have no fixed address and so need a base URL.
export const PROVIDERS = [
  "openai",
  "anthropic",
  "google",
  "azure",
  "groq",
  "together",
  "fireworks",
  "mistral",
  "deepseek",
  "xai",
  "perplexity",
  "openrouter",
  "ollama",
  "vllm",
];
const NEEDS_BASE_URL = new Set(["azure", "vllm"]);
// Any other name is an OpenAI-compatible provider of one's own, reached at its base URL.
const OTHER = "";

// An error line under a form that its fields point to, so a screen reader reads it with them.
function formError(id) {
  return h("p", { class: "form-error", role: "alert", id });
}

async function submitting(form, error, action) {
  const submit = form.querySelector("button[type=submit]");
  error.textContent = "";
  submit.disabled = true;
  try {
    await action();
  } catch (err) {
    error.textContent = err.message;
  } finally {
    submit.disabled = false;
  }
}

function editForm(k, error, reload) {
  const name = h("input", {
    type: "text",
    value: k.provider_key_name,
    "aria-label": `New name for ${k.provider_key_name}`,
    "aria-describedby": error.id,
    required: true,
    maxlength: "200",
  });
  const secret = h("input", {
    type: "password",
    autocomplete: "off",
    spellcheck: false,
    placeholder: "unchanged",
    "aria-label": `New key for ${k.provider_key_name} (leave empty to keep it)`,
    "aria-describedby": error.id,
  });
  const baseUrl = h("input", {
    type: "url",
    value: k.config.baseUrl || "",
    placeholder: "default address",
    "aria-label": `Base URL for ${k.provider_key_name}`,
    "aria-describedby": error.id,
  });
  const active = h("input", { type: "checkbox", checked: k.byok_enabled });
  const form = h(
    "form",
    {
      class: "row inline",
      onsubmit: (e) => {
        e.preventDefault();
        const key = secret.value;
        secret.value = "";
        submitting(form, error, async () => {
          const change = { name: name.value.trim(), active: active.checked };
          if (key) change.key = key;
          await call("PATCH", `/v1/vault/update/${encodeURIComponent(k.id)}`, change);
          const url = baseUrl.value.trim();
          if (url !== (k.config.baseUrl || "")) {
            const config = { ...k.config, baseUrl: url };
            if (!url) delete config.baseUrl;
            await call("PATCH", `/v1/api-keys/provider-key/${encodeURIComponent(k.id)}`, { config });
          }
          toast(`Saved ${change.name}`);
          await reload();
        });
      },
    },
    name,
    secret,
    baseUrl,
    h("label", { class: "check" }, active, "Enabled"),
    h("button", { type: "submit", class: "ghost small" }, "Save"),
  );
  return form;
}

function keyRow(k, reload) {
  const error = formError(`provider-key-error-${k.id}`);
  const nameCell = h("td", {}, k.provider_key_name);
  const edit = () => {
    const form = editForm(k, error, reload);
    clear(nameCell).append(form, error);
    form.querySelector("input").focus();
  };
  return h(
    "tr",
    { "data-provider-key": k.provider_key_name },
    h("td", {}, k.provider_name),
    nameCell,
    h("td", {}, k.config.baseUrl ? h("code", {}, k.config.baseUrl) : "default"),
    h("td", {}, k.byok_enabled ? "yes" : "no"),
    h("td", {}, time(k.created_at)),
    h(
      "td",
      {},
      h(
        "div",
        { class: "row" },
        h(
          "button",
          { type: "button", class: "ghost small", "aria-label": `Edit ${k.provider_key_name}`, onclick: edit },
          "Edit",
        ),
        confirmButton("Delete", "Really delete?", `Delete ${k.provider_key_name}`, async () => {
          await call("DELETE", `/v1/api-keys/provider-key/${encodeURIComponent(k.id)}`);
          toast(`Deleted ${k.provider_key_name}`);
          await reload();
        }),
      ),
    ),
  );
}

function addForm(reload) {
  const error = formError("provider-key-error");
  const described = { "aria-describedby": "provider-key-error" };
  const provider = h(
    "select",
    { id: "provider-key-provider", ...described },
    PROVIDERS.map((p) => h("option", { value: p }, p)),
    h("option", { value: OTHER }, "other (OpenAI-compatible)"),
  );
  const other = h("input", { id: "provider-key-other", type: "text", maxlength: "100", ...described });
  const otherLabel = h("label", { for: "provider-key-other" }, "Provider name");
  const name = h("input", { id: "provider-key-name", type: "text", required: true, maxlength: "200", ...described });
  const secret = h("input", {
    id: "provider-key-secret",
    type: "password",
    autocomplete: "off",
    spellcheck: false,
    required: true,
    ...described,
  });
  const baseUrl = h("input", { id: "provider-key-base-url", type: "url", placeholder: "optional", ...described });
  const models = h("input", {
    id: "provider-key-models",
    type: "text",
    placeholder: "optional, comma-separated",
    ...described,
  });
  const sync = () => {
    const custom = provider.value === OTHER;
    other.hidden = otherLabel.hidden = !custom;
    other.required = custom;
    baseUrl.required = custom || NEEDS_BASE_URL.has(provider.value);
    baseUrl.placeholder = baseUrl.required ? "required" : "optional";
  };
  provider.addEventListener("change", sync);
  sync();
  const form = h(
    "form",
    {
      class: "row add-form",
      "aria-label": "Add a provider key",
      onsubmit: (e) => {
        e.preventDefault();
        const key = secret.value;
        secret.value = "";
        submitting(form, error, async () => {
          const config = {};
          if (baseUrl.value.trim()) config.baseUrl = baseUrl.value.trim();
          if (models.value.trim()) config.models = models.value.trim();
          const providerName = provider.value === OTHER ? other.value.trim() : provider.value;
          const body = { providerName, providerKeyName: name.value.trim(), providerKey: key, config };
          await post("/v1/api-keys/provider-key", body);
          toast(`Added ${body.providerKeyName}`);
          await reload();
        });
      },
    },
    h("label", { for: "provider-key-provider" }, "Provider"),
    provider,
    otherLabel,
    other,
    h("label", { for: "provider-key-name" }, "Key name"),
    name,
    h("label", { for: "provider-key-secret" }, "Provider API key"),
    secret,
    h("label", { for: "provider-key-base-url" }, "Base URL"),
    baseUrl,
    h("label", { for: "provider-key-models" }, "Extra models"),
    models,
    h("button", { type: "submit", class: "primary" }, "Add provider key"),
  );
  return [form, error];
}

export async function providerKeysSection(section) {
  const keys = await get("/v1/api-keys/provider-keys");
  const reload = () => providerKeysSection(section);
  clear(section).append(
    h("h2", {}, "Provider keys"),
    h(
      "p",
      { class: "muted" },
      "Keys the AI Gateway calls providers with: a ",
      h("code", {}, "model"),
      " goes to the newest enabled key of its provider. Keys are stored encrypted and never shown again.",
    ),
    table(
      "Provider keys",
      ["Provider", "Name", "Base URL", "Enabled", "Created", "Actions"],
      keys.map((k) => keyRow(k, reload)),
      "No provider keys.",
    ),
    ...addForm(reload),
  );
}
