// Every page keeps its state in the URL hash (#/page/part?key=value): a reload, Back, or a link
// opened in a new tab restores the same view. Changing state replaces the entry; opening
// something (a request, a span) pushes one, so Back closes it.

let shown = location.hash;

export function parseHash(hash = location.hash) {
  const raw = hash.replace(/^#\/?/, "");
  const at = raw.indexOf("?");
  const path = at < 0 ? raw : raw.slice(0, at);
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  return { parts, params: new URLSearchParams(at < 0 ? "" : raw.slice(at + 1)) };
}

export function hashOf(parts, params = new URLSearchParams()) {
  const kept = [...params].filter(([, v]) => v !== "" && v !== null && v !== undefined);
  const query = new URLSearchParams(kept).toString();
  return `#/${parts.map(encodeURIComponent).join("/")}${query ? `?${query}` : ""}`;
}

/** Whether the router still has to render this hash (false after our own replace/push). */
export function isNewHash() {
  return location.hash !== shown;
}

export function markShown() {
  shown = location.hash;
}

export function go(parts, params, { push = false } = {}) {
  const url = hashOf(parts, params);
  if (url === location.hash) return;
  if (push) history.pushState(null, "", url);
  else history.replaceState(null, "", url);
  shown = location.hash;
}

/** Set (or, with null/""/undefined, remove) query parameters of the current page. */
export function setParams(patch, options) {
  const { parts, params } = parseHash();
  for (const [key, value] of Object.entries(patch)) {
    if (value === null || value === undefined || value === "" || value === false) params.delete(key);
    else params.set(key, String(value));
  }
  go(parts, params, options);
}

// The filter builder's tree, compactly: a group is [op, ...items], a condition [field, key,
// operator, value]; then JSON in base64url, so it survives any URL handling unescaped.
function pack(node) {
  if (node.type === "group") return [node.op === "or" ? "o" : "a", ...node.items.map(pack)];
  return [node.field, node.key || "", node.operator, node.value];
}

function unpack(item) {
  if (!Array.isArray(item)) throw new Error("bad filter");
  if (item[0] === "a" || item[0] === "o") {
    return { type: "group", op: item[0] === "o" ? "or" : "and", items: item.slice(1).map(unpack) };
  }
  const [field, key, operator, value] = item;
  return { type: "leaf", field: String(field), key: String(key), operator: String(operator), value: String(value) };
}

export function encodeFilter(group) {
  if (!group.items.length) return "";
  const bytes = new TextEncoder().encode(JSON.stringify(pack(group)));
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function decodeFilter(text) {
  if (!text) return null;
  try {
    const bin = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
    const group = unpack(JSON.parse(new TextDecoder().decode(bytes)));
    return group.type === "group" ? group : null;
  } catch {
    return null; // a damaged link opens unfiltered rather than failing
  }
}

/** "latency:desc" <-> {latency: "desc"} */
export function parseSort(text, fallback) {
  const [key, dir] = (text || "").split(":");
  return key && (dir === "asc" || dir === "desc") ? { [key]: dir } : fallback;
}

export function sortText(sort) {
  const [[key, dir]] = Object.entries(sort);
  return `${key}:${dir}`;
}

export function intParam(params, name, fallback, max = Number.MAX_SAFE_INTEGER) {
  const n = Number.parseInt(params.get(name) || "", 10);
  return Number.isFinite(n) && n >= 0 && n <= max ? n : fallback;
}
