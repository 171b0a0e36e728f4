// The REST client: every call goes to Helioscope's own /v1 routes with the signed-in key.
import { currentKey } from "./auth.js";

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export async function call(method, path, body, { key, signal } = {}) {
  const token = key ?? currentKey()?.key;
  const headers = { accept: "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, `Helioscope is unreachable: ${err.message}`);
  }
  let payload = null;
  try {
    payload = await response.json();
  } catch {
    throw new ApiError(response.status, `${method} ${path}: HTTP ${response.status}`);
  }
  if (!response.ok || payload?.error) {
    // Only the signed-in key going bad signs out; a key being tried at sign-in does not.
    if (response.status === 401 && key === undefined) window.dispatchEvent(new CustomEvent("helioscope:unauthorized"));
    throw new ApiError(response.status, payload?.error || `HTTP ${response.status}`);
  }
  return payload && "data" in payload ? payload.data : payload;
}

export const post = (path, body, opts) => call("POST", path, body, opts);
export const get = (path, opts) => call("GET", path, undefined, opts);
