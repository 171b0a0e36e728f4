// The shell: hash routes, the navigation, the organization switcher, and sign-in.
import { addKey, currentKey, keys, select, signOut } from "./auth.js";
import { clear, h } from "./dom.js";
import { renderDashboard } from "./dashboard.js";
import { renderPrompt, renderPrompts } from "./prompts.js";
import { renderProperties } from "./properties.js";
import { renderDataset, renderDatasets } from "./datasets.js";
import { renderExperiment, renderExperiments } from "./experiments.js";
import { renderSettings } from "./settings.js";
import { renderSignIn } from "./signin.js";
import { renderUsers } from "./users.js";
import { renderRequests } from "./requests.js";
import { renderSession, renderSessions } from "./sessions.js";

// Each page: its hash route, its name in the navigation, and how to render it.
const PAGES = [
  { path: "dashboard", title: "Dashboard", render: renderDashboard },
  { path: "requests", title: "Requests", render: renderRequests },
  { path: "sessions", title: "Sessions", render: renderSessions, detail: renderSession },
  { path: "users", title: "Users", render: renderUsers },
  { path: "properties", title: "Properties", render: renderProperties },
  { path: "prompts", title: "Prompts", render: renderPrompts, detail: renderPrompt },
  { path: "experiments", title: "Experiments", render: renderExperiments, detail: renderExperiment },
  { path: "datasets", title: "Datasets", render: renderDatasets, detail: renderDataset },
  { path: "settings", title: "Settings", render: renderSettings },
];

let teardown = null;

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, query = ""] = raw.split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  return { parts, params: new URLSearchParams(query) };
}

function renderNav(active) {
  const nav = clear(document.getElementById("nav"));
  const list = h("ul");
  for (const page of PAGES) {
    list.append(
      h(
        "li",
        {},
        h(
          "a",
          { href: `#/${page.path}`, "aria-current": page.path === active ? "page" : false },
          page.title,
        ),
      ),
    );
  }
  nav.append(list);
}

function renderOrgSwitch() {
  const select_ = document.getElementById("org-switch");
  clear(select_);
  const current = currentKey();
  for (const k of keys()) {
    select_.append(h("option", { value: k.key, selected: current && k.key === current.key }, k.label));
  }
}

async function route() {
  if (teardown) {
    teardown();
    teardown = null;
  }
  const main = clear(document.getElementById("main"));
  const topbar = document.getElementById("topbar");
  const { parts, params } = parseHash();
  if (!currentKey() || parts[0] === "signin") {
    topbar.hidden = !currentKey();
    document.title = "Sign in · Helioscope";
    renderSignIn(main, {
      onSignedIn: (key, label) => {
        addKey(key, label);
        location.hash = "#/dashboard";
      },
    });
    return;
  }
  topbar.hidden = false;
  renderOrgSwitch();
  const name = parts[0] || "dashboard";
  const page = PAGES.find((p) => p.path === name) || PAGES[0];
  renderNav(page.path);
  document.title = `${page.title} · Helioscope`;
  const ctx = { parts: parts.slice(1), params };
  if (page.detail && ctx.parts.length) {
    teardown = (await page.detail(main, ctx)) || null;
  } else {
    teardown = (await page.render(main, ctx)) || null;
  }
}

function start() {
  document.getElementById("org-switch").addEventListener("change", (e) => select(e.target.value));
  document.getElementById("add-key").addEventListener("click", () => {
    location.hash = "#/signin";
  });
  document.getElementById("sign-out").addEventListener("click", () => {
    const k = currentKey();
    if (k) signOut(k.key);
    route();
  });
  window.addEventListener("hashchange", route);
  window.addEventListener("helioscope:org", route);
  window.addEventListener("helioscope:unauthorized", () => {
    const k = currentKey();
    if (k) signOut(k.key);
    location.hash = "#/signin";
  });
  route();
}

start();
