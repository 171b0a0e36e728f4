// Prompts (Helicone's prompts 2025): the list, and a prompt's versions with environments,
// promotion, a diff between two versions, and a playground that runs one through the gateway.
import { get, post } from "./api.js";
import { currentKey } from "./auth.js";
import { renderChat } from "./chat.js";
import { clear, h, toast } from "./dom.js";
import { openDrawer } from "./drawer.js";
import { renderDiff } from "./diff.js";
import { time } from "./format.js";
import { dataTable, pager } from "./table.js";

const PAGE = 25;
const VARIABLE = /\{\{\s*hc\s*:\s*([A-Za-z_][\w-]*)\s*:\s*([A-Za-z_][\w-]*)\s*\}\}/g;
const label = (v) => `v${v.major_version}.${v.minor_version}`;

export async function renderPrompts(main) {
  let page = 0;
  const search = h("input", { type: "search", id: "prompt-search", placeholder: "name or id" });
  const results = h("div", { class: "results", "aria-busy": "true" });
  const countEl = h("span", { class: "count muted" });
  async function load() {
    results.setAttribute("aria-busy", "true");
    try {
      const [rows, total] = await Promise.all([
        post("/v1/prompt-2025/query", { search: search.value.trim(), page, pageSize: PAGE }),
        get("/v1/prompt-2025/count"),
      ]);
      countEl.textContent = `${total} prompt${total === 1 ? "" : "s"}`;
      clear(results);
      if (!rows.length) {
        results.append(h("p", { class: "empty" }, total ? "No prompt matches." : "No prompts yet. Create one with the API (POST /v1/prompt-2025) or Helicone's SDK."));
      } else {
        results.append(
          dataTable({
            caption: "Prompts",
            columns: [
              { id: "name", title: "Name", cell: (p) => p.name },
              { id: "tags", title: "Tags", cell: (p) => h("span", { class: "chips" }, p.tags.map((t) => h("span", { class: "chip" }, t))) },
              { id: "id", title: "Id", cell: (p) => h("code", {}, p.id) },
              { id: "created", title: "Created", cell: (p) => time(p.created_at) },
            ],
            rows,
            onOpen: (p) => {
              location.hash = `#/prompts/${encodeURIComponent(p.id)}`;
            },
            rowLabel: (p) => `Prompt ${p.name}`,
          }),
        );
      }
      // The query pages by page number; a full page means there may be another.
      results.append(pager({ offset: page * PAGE, limit: PAGE, shown: rows.length, total: search.value.trim() ? null : total, onPage: (o) => { page = Math.floor(o / PAGE); load(); }, onLimit: () => {} }));
      results.querySelector(".pager label")?.remove();
    } catch (err) {
      clear(results).append(h("p", { class: "form-error", role: "alert" }, err.message));
    } finally {
      results.setAttribute("aria-busy", "false");
    }
  }
  main.append(
    h("div", { class: "page-head" }, h("h1", {}, "Prompts"), countEl),
    h(
      "form",
      { class: "card row search-bar", role: "search", onsubmit: (e) => { e.preventDefault(); page = 0; load(); } },
      h("label", { for: "prompt-search" }, "Search prompts"),
      search,
      h("button", { type: "submit", class: "primary" }, "Search"),
    ),
    results,
  );
  await load();
}

function variablesOf(body) {
  const names = new Map();
  for (const m of JSON.stringify(body).matchAll(VARIABLE)) names.set(m[1], m[2]);
  return [...names.entries()];
}

function versionsTable(prompt, versions, reload) {
  const envInput = (v) => h("input", { type: "text", class: "env-input", placeholder: "environment", "aria-label": `Environment for ${label(v)}` });
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "data", id: "versions" },
      h("caption", { class: "visually-hidden" }, "Versions"),
      h("thead", {}, h("tr", {}, ["Version", "Model", "Message", "Environments", "Created", "Actions"].map((t) => h("th", { scope: "col" }, t)))),
      h(
        "tbody",
        {},
        versions.map((v) => {
          const env = envInput(v);
          const setEnv = async (environment) => {
            try {
              await post("/v1/prompt-2025/update/environment", { promptId: prompt.id, promptVersionId: v.id, environment });
              toast(`${label(v)} is now in ${environment}`);
              await reload();
            } catch (err) {
              toast(err.message, "error");
            }
          };
          return h(
            "tr",
            { "data-version": label(v) },
            h("th", { scope: "row" }, label(v)),
            h("td", {}, v.model || "–"),
            h("td", {}, v.commit_message || h("span", { class: "muted" }, "–")),
            h(
              "td",
              {},
              h(
                "span",
                { class: "chips" },
                v.environments.map((e) =>
                  h(
                    "span",
                    { class: `chip env ${e === "production" ? "prod" : ""}` },
                    e,
                    e === "production"
                      ? ""
                      : h(
                          "button",
                          {
                            type: "button",
                            class: "chip-x",
                            "aria-label": `Remove ${e} from ${label(v)}`,
                            onclick: async () => {
                              try {
                                await post("/v1/prompt-2025/remove/environment", { promptId: prompt.id, promptVersionId: v.id, environment: e });
                                await reload();
                              } catch (err) {
                                toast(err.message, "error");
                              }
                            },
                          },
                          "×",
                        ),
                  ),
                ),
              ),
            ),
            h("td", {}, time(v.created_at)),
            h(
              "td",
              {},
              h(
              "div",
              { class: "row" },
              v.environments.includes("production")
                ? h("span", { class: "muted" }, "in production")
                : h("button", { type: "button", class: "ghost small", "aria-label": `Promote ${label(v)} to production`, onclick: () => setEnv("production") }, "Promote"),
              h(
                "form",
                { class: "row inline", onsubmit: (e) => { e.preventDefault(); if (env.value.trim()) setEnv(env.value.trim()); } },
                env,
                h("button", { type: "submit", class: "ghost small", "aria-label": `Set environment of ${label(v)}` }, "Set"),
              ),
              ),
            ),
          );
        }),
      ),
    ),
  );
}

function versionSelect(id, text, versions, selected) {
  return [
    h("label", { for: id }, text),
    h("select", { id }, versions.map((v) => h("option", { value: v.id, selected: v.id === selected }, `${label(v)}${v.environments.length ? ` (${v.environments.join(", ")})` : ""}`))),
  ];
}

const bodies = new Map();
async function bodyOf(versionId) {
  if (!bodies.has(versionId)) bodies.set(versionId, await get(`/v1/prompt-2025/${encodeURIComponent(versionId)}/prompt-body`));
  return bodies.get(versionId);
}

function diffPanel(versions) {
  const out = h("div", { id: "diff-out" });
  const [la, a] = versionSelect("diff-a", "From", versions, versions[1]?.id || versions[0].id);
  const [lb, b] = versionSelect("diff-b", "To", versions, versions[0].id);
  const run = async () => {
    const [x, y] = await Promise.all([bodyOf(a.value), bodyOf(b.value)]);
    const name = (id) => label(versions.find((v) => v.id === id));
    clear(out).append(renderDiff(JSON.stringify(x, null, 2), JSON.stringify(y, null, 2), [name(a.value), name(b.value)]));
  };
  a.addEventListener("change", run);
  b.addEventListener("change", run);
  run().catch((err) => toast(err.message, "error"));
  return h("section", { class: "card", "aria-labelledby": "diff-title" }, h("h2", { id: "diff-title" }, "Compare versions"), h("div", { class: "row" }, la, a, lb, b), out);
}

function playground(prompt, versions) {
  const [lv, select] = versionSelect("play-version", "Version", versions, (versions.find((v) => v.environments.includes("production")) || versions[0]).id);
  const inputs = h("div", { class: "play-inputs" });
  const preview = h("div", { class: "play-preview" });
  const out = h("div", { class: "play-out", "aria-live": "polite" });
  const providerKey = h("input", { type: "password", id: "play-provider-key", autocomplete: "off", placeholder: "sk-… (kept in this page only)" });
  const runBtn = h("button", { type: "submit", class: "primary" }, "Run through the gateway");
  const fields = new Map();
  async function showVersion() {
    const body = await bodyOf(select.value);
    // Values typed so far carry over to a version that has the same variables.
    const typed = new Map([...fields].map(([name, [input]]) => [name, input.value]));
    clear(inputs);
    fields.clear();
    const vars = variablesOf(body);
    if (!vars.length) inputs.append(h("p", { class: "muted" }, "This version has no variables."));
    for (const [name, type] of vars) {
      const id = `var-${name}`;
      const input = h("input", { id, type: type === "number" ? "number" : "text", step: "any", value: typed.get(name) ?? "" });
      fields.set(name, [input, type]);
      inputs.append(h("div", { class: "field" }, h("label", { for: id }, `${name} `, h("span", { class: "muted" }, type)), input));
    }
    clear(preview).append(h("details", {}, h("summary", {}, "Template"), renderChat(body, null)));
  }
  select.addEventListener("change", () => showVersion().catch((err) => toast(err.message, "error")));
  showVersion().catch((err) => toast(err.message, "error"));
  const form = h(
    "form",
    {
      onsubmit: async (e) => {
        e.preventDefault();
        const values = {};
        for (const [name, [input, type]] of fields) {
          values[name] = type === "number" ? Number(input.value) : type === "boolean" ? input.value === "true" : input.value;
        }
        runBtn.disabled = true;
        clear(out).append(h("p", { class: "muted" }, "Running…"));
        try {
          // The gateway expands the version with these inputs, calls the provider and logs it.
          const headers = { "content-type": "application/json", "helicone-auth": `Bearer ${currentKey().key}` };
          if (providerKey.value) headers.authorization = `Bearer ${providerKey.value}`;
          const response = await fetch("/oai/v1/chat/completions", {
            method: "POST",
            headers,
            body: JSON.stringify({ prompt_id: prompt.id, version_id: select.value, inputs: values, messages: [] }),
          });
          const data = await response.json().catch(() => null);
          const requestId = response.headers.get("helicone-id");
          clear(out).append(
            h("p", { class: "row" }, h("span", { class: `status ${response.ok ? "ok" : "bad"}` }, String(response.status)), requestId ? h("button", { type: "button", class: "ghost small", onclick: () => openDrawer(requestId) }, "Open the logged request") : ""),
            response.ok ? renderChat(null, data) : h("pre", { class: "json" }, JSON.stringify(data, null, 2)),
          );
        } catch (err) {
          clear(out).append(h("p", { class: "form-error", role: "alert" }, err.message));
        } finally {
          runBtn.disabled = false;
        }
      },
    },
    h("div", { class: "row" }, lv, select),
    preview,
    inputs,
    h("div", { class: "field" }, h("label", { for: "play-provider-key" }, "Provider API key ", h("span", { class: "muted" }, "(sent to the provider through the gateway, never stored)")), providerKey),
    runBtn,
  );
  return h("section", { class: "card", "aria-labelledby": "play-title" }, h("h2", { id: "play-title" }, "Playground"), form, out);
}

export async function renderPrompt(main, { parts }) {
  const id = parts[0];
  main.append(h("p", {}, h("a", { href: "#/prompts" }, "← All prompts")));
  const body = h("div", { id: "prompt-body", "aria-busy": "true" });
  main.append(body);
  async function load() {
    body.setAttribute("aria-busy", "true");
    try {
      const [prompt, versions] = await Promise.all([
        get(`/v1/prompt-2025/id/${encodeURIComponent(id)}`),
        post("/v1/prompt-2025/query/versions", { promptId: id }),
      ]);
      const reload = async () => {
        clear(body);
        await load();
      };
      clear(body).append(
        h("div", { class: "page-head" }, h("h1", {}, prompt.name), h("span", { class: "chips" }, prompt.tags.map((t) => h("span", { class: "chip" }, t)))),
        h("section", { class: "card", "aria-labelledby": "versions-title" }, h("h2", { id: "versions-title" }, `Versions (${versions.length})`), versionsTable(prompt, versions, reload)),
        h("div", { class: "prompt-grid" }, diffPanel(versions), playground(prompt, versions)),
      );
    } catch (err) {
      clear(body).append(h("p", { class: "form-error", role: "alert" }, err.message));
    } finally {
      body.setAttribute("aria-busy", "false");
    }
  }
  await load();
}

