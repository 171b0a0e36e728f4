// Sign-in with an API key: checked against the API before it is kept.
import { post } from "./api.js";
import { h } from "./dom.js";

export function renderSignIn(main, { onSignedIn }) {
  const error = h("p", { class: "form-error", role: "alert", id: "signin-error" });
  const keyInput = h("input", {
    id: "signin-key",
    name: "key",
    type: "password",
    autocomplete: "off",
    required: true,
    spellcheck: false,
    "aria-describedby": "signin-help signin-error",
  });
  const labelInput = h("input", { id: "signin-label", name: "label", type: "text", autocomplete: "organization" });
  const remember = h("input", { id: "signin-remember", type: "checkbox", "aria-describedby": "signin-remember-help" });
  const submit = h("button", { type: "submit", class: "primary" }, "Sign in");
  const form = h(
    "form",
    {
      class: "signin card",
      "aria-labelledby": "signin-title",
      onsubmit: async (event) => {
        event.preventDefault();
        error.textContent = "";
        const key = keyInput.value.trim();
        submit.disabled = true;
        try {
          // Any scoped read proves the key works; the API answers 401 otherwise.
          await post("/v1/request/count/query", { filter: "all" }, { key });
          onSignedIn(key, labelInput.value.trim(), remember.checked);
        } catch (err) {
          error.textContent = err.status === 401 ? "This API key is not valid." : err.message;
          keyInput.focus();
        } finally {
          submit.disabled = false;
        }
      },
    },
    h("h1", { id: "signin-title" }, "Sign in to Helioscope"),
    h(
      "p",
      { id: "signin-help", class: "muted" },
      "Use a Helioscope API key: the one ",
      h("code", {}, "helioscope serve"),
      " printed at first start, or a new one from ",
      h("code", {}, "helioscope keys create"),
      ".",
    ),
    h("label", { for: "signin-key" }, "API key"),
    keyInput,
    h(
      "label",
      { for: "signin-label" },
      "Organization name ",
      h("span", { class: "muted" }, "(optional, shown in the switcher)"),
    ),
    labelInput,
    h("label", { class: "check", for: "signin-remember" }, remember, "Remember this key on this browser"),
    h(
      "p",
      { id: "signin-remember-help", class: "muted small" },
      "Off: the key stays in this tab only. On: it is kept in this browser's storage until you sign out, so links open in new tabs. Leave it off on a shared computer.",
    ),
    error,
    submit,
  );
  main.append(h("div", { class: "center" }, form));
  keyInput.focus();
}
