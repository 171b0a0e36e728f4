// API keys the user signed in with. By default a key stays in this tab only (sessionStorage);
// "remember on this browser" (opt-in) keeps it in localStorage, so links open in new tabs.
const TAB = "helioscope.keys";
const KEPT = "helioscope.remembered";
const CURRENT = "helioscope.current";

function read(storage, name) {
  try {
    const list = JSON.parse(storage.getItem(name) || "[]");
    return Array.isArray(list) ? list : [];
  } catch {
    return [];
  }
}

export function keys() {
  const out = [...read(sessionStorage, TAB)];
  for (const k of read(localStorage, KEPT)) if (!out.some((o) => o.key === k.key)) out.push({ ...k, remembered: true });
  return out;
}

export function currentKey() {
  const list = keys();
  const chosen = sessionStorage.getItem(CURRENT) || localStorage.getItem(CURRENT);
  return list.find((k) => k.key === chosen) || list[0] || null;
}

/** A short, stable name for the signed-in organization's local settings (never the key). */
export function scopeId() {
  const k = currentKey();
  return k ? k.key.slice(-8) : "none";
}

export function addKey(key, label, remember = false) {
  const entry = { key, label: label || `Key …${key.slice(-6)}` };
  sessionStorage.setItem(TAB, JSON.stringify([...read(sessionStorage, TAB).filter((k) => k.key !== key), entry]));
  if (remember)
    localStorage.setItem(KEPT, JSON.stringify([...read(localStorage, KEPT).filter((k) => k.key !== key), entry]));
  select(key);
}

export function select(key) {
  sessionStorage.setItem(CURRENT, key);
  if (read(localStorage, KEPT).some((k) => k.key === key)) localStorage.setItem(CURRENT, key);
  window.dispatchEvent(new CustomEvent("helioscope:org"));
}

export function signOut(key) {
  sessionStorage.setItem(TAB, JSON.stringify(read(sessionStorage, TAB).filter((k) => k.key !== key)));
  localStorage.setItem(KEPT, JSON.stringify(read(localStorage, KEPT).filter((k) => k.key !== key)));
  const rest = keys();
  if (rest.length) select(rest[0].key);
  else {
    sessionStorage.removeItem(CURRENT);
    localStorage.removeItem(CURRENT);
  }
}
