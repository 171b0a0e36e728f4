// The shell: hash routes, the navigation, the organization switcher, and sign-in.
import { addKey, currentKey, keys, select, signOut } from "./auth.js";
import { renderDashboard } from "./dashboard.js";
import { renderDataset, renderDatasets } from "./datasets.js";
import { clear, h } from "./dom.js";
import { renderExperiment, renderExperiments } from "./experiments.js";
import { renderPlayground } from "./playground.js";
import { renderPrompt, renderPrompts } from "./prompts.js";
import { renderProperties } from "./properties.js";
import { renderRequests } from "./requests.js";
import { renderSession, renderSessions } from "./sessions.js";
import { renderSettings } from "./settings.js";
import { renderSignIn } from "./signin.js";
import { isNewHash, markShown, parseHash } from "./url.js";
import { renderUsers } from "./users.js";

// Each page: its hash route, its name in the navigation, and how to render it. A page may
// return {teardown, update}: update(ctx) takes a change of its own URL without a re-render
// (returning false asks for a full render instead).
const PAGES = [
  { path: "dashboard", title: "Dashboard", render: renderDashboard },
  { path: "requests", title: "Requests", render: renderRequests, detail: renderRequests },
  { path: "sessions", title: "Sessions", render: renderSessions, detail: renderSession },
  { path: "users", title: "Users", render: renderUsers },
  { path: "properties", title: "Properties", render: renderProperties },
  { path: "prompts", title: "Prompts", render: renderPrompts, detail: renderPrompt },
  { path: "playground", title: "Playground", render: renderPlayground, hidden: true },
  { path: "experiments", title: "Experiments", render: renderExperiments, detail: renderExperiment },
  { path: "datasets", title: "Datasets", render: renderDatasets, detail: renderDataset },
  { path: "settings", title: "Settings", render: renderSettings },
];

let mounted = null; // {page, detail, handle}

function renderNav(active) {
  const nav = clear(document.getElementById("nav"));
  nav.append(
    h(
      "ul",
      {},
      PAGES.filter((p) => !p.hidden).map((page) =>
        h(
          "li",
          {},
          h("a", { href: `#/${page.path}`, "aria-current": page.path === active ? "page" : false }, page.title),
        ),
      ),
    ),
  );
}

function renderOrgSwitch() {
  const chooser = clear(document.getElementById("org-switch"));
  const current = currentKey();
  for (const k of keys()) {
    chooser.append(h("option", { value: k.key, selected: current && k.key === current.key }, k.label));
  }
}

function showSignIn(main, topbar) {
  topbar.hidden = !currentKey();
  document.title = "Sign in · Helioscope";
  // After sign-in the user lands where the link pointed, not on the Dashboard.
  const wanted = location.hash.startsWith("#/signin") ? "#/dashboard" : location.hash || "#/dashboard";
  renderSignIn(main, {
    onSignedIn: (key, label, remember) => {
      addKey(key, label, remember); // re-renders the current hash (helioscope:org)
      if (location.hash !== wanted) location.hash = wanted;
    },
  });
}

async function route(force = false) {
  if (!force && !isNewHash()) return;
  markShown();
  const { parts, params } = parseHash();
  const name = parts[0] || "dashboard";
  const page = PAGES.find((p) => p.path === name) || PAGES[0];
  const ctx = { parts: parts.slice(1), params };
  const detail = Boolean(page.detail && ctx.parts.length && page.detail !== page.render);
  if (!force && mounted && mounted.page === page && mounted.detail === detail && mounted.handle?.update) {
    if (mounted.handle.update(ctx) !== false) return;
  }
  mounted?.handle?.teardown?.();
  mounted?.stop.abort();
  mounted = null;
  const main = clear(document.getElementById("main"));
  const topbar = document.getElementById("topbar");
  if (!currentKey() || name === "signin") {
    showSignIn(main, topbar);
    return;
  }
  topbar.hidden = false;
  renderOrgSwitch();
  renderNav(page.path);
  document.title = `${page.title} · Helioscope`;
  // ctx.signal aborts when the page is replaced, even while it is still loading: a page that
  // listens on document passes it, so a page left mid-load stops hearing keys at once.
  const entry = { page, detail, handle: null, stop: new AbortController() };
  mounted = entry;
  const pageCtx = { ...ctx, signal: entry.stop.signal };
  const result = await (detail ? page.detail(main, pageCtx) : page.render(main, pageCtx));
  const handle = typeof result === "function" ? { teardown: result } : result || null;
  // The user moved on before this page finished loading: its teardown is due now, or its
  // listeners and timers would act on the next page (J on Sessions rewrote the URL to a request).
  if (mounted === entry) entry.handle = handle;
  else handle?.teardown?.();
}

function start() {
  document.getElementById("org-switch").addEventListener("change", (e) => select(e.target.value));
  document.getElementById("add-key").addEventListener("click", () => {
    location.hash = "#/signin";
  });
  document.getElementById("sign-out").addEventListener("click", () => {
    const k = currentKey();
    if (k) signOut(k.key);
    route(true);
  });
  window.addEventListener("hashchange", () => route());
  window.addEventListener("popstate", () => route());
  window.addEventListener("helioscope:org", () => route(true));
  window.addEventListener("helioscope:unauthorized", () => {
    const k = currentKey();
    if (k) signOut(k.key);
    location.hash = "#/signin";
  });
  route(true);
}

start();
