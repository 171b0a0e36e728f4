// Renders a request and its response as a conversation: OpenAI chat and Responses bodies,
// Anthropic messages, legacy completions; text, images and tool calls.
import { h } from "./dom.js";

function pretty(value) {
  if (typeof value === "string") {
    try {
      return JSON.stringify(JSON.parse(value), null, 2);
    } catch {
      return value;
    }
  }
  return JSON.stringify(value, null, 2);
}

// A remote image in logged content is never fetched by the UI (it could be a tracking pixel):
// it shows as a link that opens it in a tab of its own, on click, without a referrer. The
// CSP's img-src matches: 'self' data: blob:, no remote host.
function remoteImage(url) {
  let host = url;
  try {
    host = new URL(url).host;
  } catch {
    /* shown as given */
  }
  return h(
    "div",
    { class: "remote-image" },
    h("span", { class: "muted" }, "Remote image from ", h("strong", {}, host), " (not loaded)"),
    h("a", { class: "button ghost small", href: url, target: "_blank", rel: "noopener noreferrer" }, "Open image"),
  );
}

function image(url, alt) {
  if (typeof url === "string" && /^data:image\//.test(url)) {
    return h("img", { class: "chat-image", src: url, alt: alt || "image in the message", loading: "lazy" });
  }
  if (typeof url === "string" && /^https?:\/\//.test(url)) return remoteImage(url);
  return h("code", {}, String(url)); // a file path, javascript:, ... is shown as text
}

function toolCall(name, args, id) {
  return h(
    "div",
    { class: "tool-call" },
    h(
      "div",
      { class: "tool-head" },
      h("span", { class: "badge" }, "tool call"),
      h("strong", {}, name || "(unnamed)"),
      id ? h("span", { class: "muted" }, id) : null,
    ),
    h("pre", {}, pretty(args ?? {})),
  );
}

function part(p) {
  if (p === null || p === undefined) return null;
  if (typeof p === "string") return h("div", { class: "chat-text" }, p);
  switch (p.type) {
    case "text":
    case "input_text":
    case "output_text":
      return h("div", { class: "chat-text" }, p.text ?? "");
    case "image_url":
      return image(p.image_url?.url ?? p.image_url);
    case "input_image":
      return image(p.image_url);
    case "image": {
      const src = p.source || {};
      if (src.type === "base64") return image(`data:${src.media_type};base64,${src.data}`);
      return image(src.url);
    }
    case "tool_use":
      return toolCall(p.name, p.input, p.id);
    case "tool_result":
      return h(
        "div",
        { class: "tool-result" },
        h(
          "div",
          { class: "tool-head" },
          h("span", { class: "badge" }, "tool result"),
          h("span", { class: "muted" }, p.tool_use_id || ""),
        ),
        content(p.content),
      );
    case "thinking":
      return h(
        "details",
        { class: "thinking" },
        h("summary", {}, "Thinking"),
        h("div", { class: "chat-text" }, p.thinking || ""),
      );
    default:
      return h("pre", {}, pretty(p));
  }
}

function content(c) {
  if (c === null || c === undefined) return null;
  if (Array.isArray(c)) return h("div", { class: "chat-parts" }, c.map(part));
  return part(c);
}

function bubble(role, body, extra = []) {
  return h(
    "div",
    { class: `msg role-${String(role).replace(/[^a-z_]/gi, "")}` },
    h("div", { class: "msg-role" }, role),
    h("div", { class: "msg-body" }, body, extra),
  );
}

function openaiMessage(m) {
  const calls = (m.tool_calls || []).map((t) => toolCall(t.function?.name, t.function?.arguments, t.id));
  const role = m.role === "tool" ? `tool${m.tool_call_id ? ` · ${m.tool_call_id}` : ""}` : m.role || "message";
  return bubble(role, content(m.content), calls);
}

function responsesItem(item) {
  if (typeof item === "string") return bubble("user", part(item));
  if (item.type === "function_call") return bubble("assistant", toolCall(item.name, item.arguments, item.call_id));
  if (item.type === "function_call_output") return bubble(`tool · ${item.call_id || ""}`, part(item.output));
  if (item.type === "reasoning") return null;
  return bubble(item.role || item.type || "message", content(item.content));
}

export function requestMessages(body) {
  if (!body || typeof body !== "object") return body ? [bubble("request", part(String(body)))] : [];
  const out = [];
  if (body.system) out.push(bubble("system", content(body.system)));
  if (body.instructions) out.push(bubble("system", part(body.instructions)));
  if (Array.isArray(body.messages)) out.push(...body.messages.map(openaiMessage));
  if (typeof body.input === "string") out.push(bubble("user", part(body.input)));
  else if (Array.isArray(body.input)) out.push(...body.input.map(responsesItem));
  if (typeof body.prompt === "string") out.push(bubble("prompt", part(body.prompt)));
  return out.filter(Boolean);
}

export function responseMessages(body) {
  if (body === null || body === undefined) return [];
  if (typeof body !== "object") return [bubble("response", part(String(body)))];
  if (body.error) {
    const message = typeof body.error === "string" ? body.error : body.error.message || pretty(body.error);
    return [bubble("error", h("div", { class: "chat-text" }, message))];
  }
  if (Array.isArray(body.choices)) {
    return body.choices.map((c) => (c.message ? openaiMessage(c.message) : bubble("assistant", part(c.text ?? ""))));
  }
  if (Array.isArray(body.content)) return [bubble(body.role || "assistant", content(body.content))];
  if (Array.isArray(body.output)) return body.output.map(responsesItem).filter(Boolean);
  return [];
}

export function renderChat(request, response) {
  const messages = [...requestMessages(request), ...responseMessages(response)];
  if (!messages.length) return h("p", { class: "muted" }, "No messages to show: see the raw JSON.");
  return h("div", { class: "chat" }, messages);
}

function flatText(c) {
  if (c === null || c === undefined) return "";
  if (typeof c === "string") return c;
  if (Array.isArray(c)) return c.map(flatText).filter(Boolean).join(" ");
  if (c.type === "image_url" || c.type === "image" || c.type === "input_image") return "[image]";
  if (c.type === "tool_use") return `[tool ${c.name}]`;
  return c.text ?? (c.content !== undefined ? flatText(c.content) : "");
}

// A one-line summary for the table, without building DOM (no image loads for previews).
export function textPreview(body, which) {
  if (body === null || body === undefined) return "";
  if (typeof body !== "object") return String(body);
  if (which === "request") {
    const msgs = body.messages || (Array.isArray(body.input) ? body.input : null);
    if (msgs?.length) {
      const users = msgs.filter((m) => m.role === "user");
      return flatText((users[users.length - 1] || msgs[msgs.length - 1]).content);
    }
    return flatText(body.input ?? body.prompt ?? "");
  }
  if (body.error) return typeof body.error === "string" ? body.error : body.error.message || "error";
  const choice = body.choices?.[0];
  if (choice) {
    const calls = choice.message?.tool_calls?.map((t) => `[tool ${t.function?.name}]`).join(" ");
    return flatText(choice.message?.content ?? choice.text) || calls || "";
  }
  if (Array.isArray(body.content)) return flatText(body.content);
  if (Array.isArray(body.output)) {
    return body.output.map((o) => (o.type === "function_call" ? `[tool ${o.name}]` : flatText(o.content))).join(" ");
  }
  return "";
}

export { pretty };
