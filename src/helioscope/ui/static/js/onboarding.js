// What an empty organization sees: how to send its first call to this server with this key.
import { currentKey } from "./auth.js";
import { h, toast } from "./dom.js";

export function gettingStarted() {
  const key = currentKey()?.key || "";
  // Only a prefix is shown: the whole key stays out of screenshots and screen shares.
  const prefix = `${key.slice(0, 12)}…`;
  const snippet = [
    "from openai import OpenAI",
    "",
    "client = OpenAI(",
    `    base_url="${location.origin}/oai/v1",`,
    `    default_headers={"Helicone-Auth": "Bearer ${prefix}"},  # your Helioscope key`,
    ")",
    'client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Hello"}])',
  ].join("\n");
  return h(
    "section",
    { class: "card getting-started", "aria-labelledby": "start-title" },
    h("h2", { id: "start-title" }, "Send your first request"),
    h(
      "p",
      {},
      "Nothing is logged in this organization yet. Point your OpenAI SDK at this server and add your Helioscope key (it starts with ",
      h("code", {}, prefix),
      "); every call then shows up here within a second.",
    ),
    h("pre", { class: "json snippet" }, snippet),
    h(
      "button",
      {
        type: "button",
        class: "ghost small",
        onclick: () =>
          navigator.clipboard?.writeText(snippet.replace(prefix, key)).then(
            () => toast("Copied, with your full key"),
            () => toast("Copy failed", "error"),
          ),
      },
      "Copy with my key",
    ),
    h(
      "p",
      { class: "muted small" },
      "Anthropic: base_url ",
      h("code", {}, `${location.origin}/anthropic`),
      ". Any other provider: ",
      h("code", {}, `${location.origin}/gateway`),
      " with the header Helicone-Target-URL.",
    ),
  );
}
