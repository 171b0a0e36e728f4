// API keys the user signed in with this browser session; the selected one scopes every page.
// Kept in sessionStorage: closing the tab signs out, and no other site can read them.
const STORE = "helioscope.keys";
const CURRENT = "helioscope.current";

export function keys() {
  try {
    return JSON.parse(sessionStorage.getItem(STORE) || "[]");
  } catch {
    return [];
  }
}

function save(list) {
  sessionStorage.setItem(STORE, JSON.stringify(list));
}

export function currentKey() {
  const list = keys();
  const chosen = sessionStorage.getItem(CURRENT);
  return list.find((k) => k.key === chosen) || list[0] || null;
}

export function addKey(key, label) {
  const list = keys().filter((k) => k.key !== key);
  list.push({ key, label: label || `Key …${key.slice(-6)}` });
  save(list);
  select(key);
}

export function select(key) {
  sessionStorage.setItem(CURRENT, key);
  window.dispatchEvent(new CustomEvent("helioscope:org"));
}

export function signOut(key) {
  const list = keys().filter((k) => k.key !== key);
  save(list);
  if (list.length) select(list[0].key);
  else sessionStorage.removeItem(CURRENT);
}
