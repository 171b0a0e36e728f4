// Prompts: the 2025 prompts and those recorded through the legacy Helicone-Prompt-Id flow;
// one prompt's versions with environments and promotion, a side-by-side word diff, and the
// playground. The chosen version and the compared pair are in the URL (?v=, ?a=&b=).
import { get, post } from "./api.js";
import { renderDiff } from "./diff.js";
import { h, toast } from "./dom.js";
import { time } from "./format.js";
import { playgroundEditor, sendDraft, toBody, toDraft } from "./playground.js";
import { emptyState, loadInto, loading } from "./states.js";
import { dataTable, pager } from "./table.js";
import { go, hashOf, intParam, parseHash, setParams } from "./url.js";

const PAGE = 25;
const VARIABLE = /\{\{\s*hc\s*:\s*([A-Za-z_][\w-]*)\s*:\s*([A-Za-z_][\w-]*)\s*\}\}/g;
const LEGACY_INPUT = /<helicone-prompt-input\s+key="([^"]+)"\s*\/>/g;
const label = (v) => `v${v.major_version}.${v.minor_version}`;

function legacyList(rows) {
  // Prompts experiments make for themselves are plumbing; the ones calls named are the user's.
  const named = rows.filter((p) => !p.metadata?.createdForExperiment && !p.metadata?.emptyPrompt);
  if (!named.length) return "";
  return h(
    "section",
    { class: "legacy-prompts", "aria-labelledby": "legacy-title" },
    h("h2", { id: "legacy-title" }, "Prompts from Helicone-Prompt-Id"),
    dataTable({
      caption: "Prompts recorded through Helicone-Prompt-Id",
      columns: [
        { id: "name", title: "Prompt id", cell: (p) => p.user_defined_id },
        { id: "major", title: "Latest major version", num: true, cell: (p) => `v${p.major_version}` },
        { id: "created", title: "Created", cell: (p) => time(p.created_at) },
      ],
      rows: named,
      onOpen: (p) => {
        location.hash = hashOf(["prompts", "legacy", p.id]);
      },
      rowLabel: (p) => `Prompt ${p.user_defined_id}`,
    }),
  );
}

export async function renderPrompts(main, { params }) {
  let page = intParam(params, "page", 0);
  const search = h("input", {
    type: "search",
    id: "prompt-search",
    placeholder: "name or id",
    value: params.get("q") || "",
  });
  const results = h("div", { class: "results" });
  const legacy = h("div", {});
  const countEl = h("span", { class: "count muted" });
  const load = () => {
    setParams({ q: search.value.trim(), page: page || "" });
    return loadInto(
      results,
      () =>
        Promise.all([
          post("/v1/prompt-2025/query", { search: search.value.trim(), page, pageSize: PAGE }),
          get("/v1/prompt-2025/count"),
        ]),
      ([rows, total]) => {
        countEl.textContent = `${total} prompt${total === 1 ? "" : "s"}`;
        if (!rows.length) {
          results.append(
            emptyState(
              total
                ? "No prompt matches."
                : "No prompts yet. Create one with POST /v1/prompt-2025 (or Helicone's SDK); calls with a Helicone-Prompt-Id header appear below.",
            ),
          );
        } else {
          results.append(
            dataTable({
              caption: "Prompts",
              columns: [
                { id: "name", title: "Name", cell: (p) => p.name },
                {
                  id: "tags",
                  title: "Tags",
                  cell: (p) =>
                    h(
                      "span",
                      { class: "chips" },
                      p.tags.map((t) => h("span", { class: "chip" }, t)),
                    ),
                },
                { id: "id", title: "Id", cell: (p) => h("code", {}, p.id) },
                { id: "created", title: "Created", cell: (p) => time(p.created_at) },
              ],
              rows,
              onOpen: (p) => {
                location.hash = hashOf(["prompts", p.id]);
              },
              rowLabel: (p) => `Prompt ${p.name}`,
            }),
          );
        }
        // The query pages by page number; a full page means there may be another.
        results.append(
          pager({
            offset: page * PAGE,
            limit: PAGE,
            shown: rows.length,
            total: search.value.trim() ? null : total,
            onPage: (o) => {
              page = Math.floor(o / PAGE);
              load();
            },
          }),
        );
      },
    );
  };
  main.append(
    h("div", { class: "page-head" }, h("h1", {}, "Prompts"), countEl),
    h(
      "form",
      {
        class: "card row search-bar",
        role: "search",
        onsubmit: (e) => {
          e.preventDefault();
          page = 0;
          load();
        },
      },
      h("label", { for: "prompt-search" }, "Search prompts"),
      search,
      h("button", { type: "submit", class: "primary" }, "Search"),
    ),
    results,
    legacy,
  );
  await load();
  post("/v1/prompt/query", { filter: "all" })
    .then((rows) => legacy.replaceChildren(legacyList(rows)))
    .catch(() => {});
}

function variablesOf(body) {
  const names = new Map();
  for (const m of JSON.stringify(body).matchAll(VARIABLE)) names.set(m[1], m[2]);
  for (const m of JSON.stringify(body).matchAll(LEGACY_INPUT)) names.set(m[1], "string");
  return [...names.entries()];
}

function fill(body, values) {
  const text = JSON.stringify(body)
    .replace(VARIABLE, (_, name) => JSON.stringify(String(values[name] ?? "")).slice(1, -1))
    .replace(LEGACY_INPUT, (_, name) => JSON.stringify(String(values[name] ?? "")).slice(1, -1));
  return JSON.parse(text);
}

function envChips(prompt, v, reload) {
  return h(
    "span",
    { class: "chips" },
    (v.environments || []).map((e) =>
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
                    await post("/v1/prompt-2025/remove/environment", {
                      promptId: prompt.id,
                      promptVersionId: v.id,
                      environment: e,
                    });
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
  );
}

function versionActions(prompt, v, reload) {
  const env = h("input", {
    type: "text",
    class: "env-input",
    placeholder: "environment",
    "aria-label": `Environment for ${label(v)}`,
  });
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
    "div",
    { class: "row" },
    v.environments.includes("production")
      ? h("span", { class: "muted" }, "in production")
      : h(
          "button",
          {
            type: "button",
            class: "ghost small",
            "aria-label": `Promote ${label(v)} to production`,
            onclick: () => setEnv("production"),
          },
          "Promote",
        ),
    h(
      "form",
      {
        class: "row inline",
        onsubmit: (e) => {
          e.preventDefault();
          if (env.value.trim()) setEnv(env.value.trim());
        },
      },
      env,
      h("button", { type: "submit", class: "ghost small", "aria-label": `Set environment of ${label(v)}` }, "Set"),
    ),
  );
}

function versionsTable(prompt, versions, reload) {
  const legacy = !prompt.tags;
  const head = [
    "Version",
    "Model",
    legacy ? "Label" : "Message",
    ...(legacy ? [] : ["Environments"]),
    "Created",
    ...(legacy ? [] : ["Actions"]),
  ];
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "data", id: "versions" },
      h("caption", { class: "visually-hidden" }, "Versions"),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          head.map((t) => h("th", { scope: "col" }, t)),
        ),
      ),
      h(
        "tbody",
        {},
        versions.map((v) =>
          h(
            "tr",
            { "data-version": label(v) },
            h(
              "th",
              { scope: "row" },
              h("a", { href: hashOf(parseHash().parts, new URLSearchParams({ v: v.id })) }, label(v)),
            ),
            h("td", {}, v.model || "–"),
            h(
              "td",
              { class: "wrap" },
              (legacy ? v.metadata?.label : v.commit_message) || h("span", { class: "muted" }, "–"),
            ),
            legacy ? "" : h("td", {}, envChips(prompt, v, reload)),
            h("td", {}, time(v.created_at)),
            legacy ? "" : h("td", {}, versionActions(prompt, v, reload)),
          ),
        ),
      ),
    ),
  );
}

function versionSelect(id, text, versions, selected, onChange) {
  return [
    h("label", { for: id }, text),
    h(
      "select",
      { id, onchange: (e) => onChange(e.target.value) },
      versions.map((v) =>
        h(
          "option",
          { value: v.id, selected: v.id === selected },
          `${label(v)}${v.environments?.length ? ` (${v.environments.join(", ")})` : ""}`,
        ),
      ),
    ),
  ];
}

function diffPanel(versions, bodyOf, params) {
  const out = h("div", { id: "diff-out" });
  let a = params.get("a") || versions[1]?.id || versions[0].id;
  let b = params.get("b") || versions[0].id;
  const run = async () => {
    setParams({ a, b });
    const [x, y] = await Promise.all([bodyOf(a), bodyOf(b)]);
    const name = (id) => label(versions.find((v) => v.id === id) || versions[0]);
    out.replaceChildren(renderDiff(JSON.stringify(x, null, 2), JSON.stringify(y, null, 2), [name(a), name(b)]));
  };
  const fail = (err) => toast(err.message, "error");
  const [la, sa] = versionSelect("diff-a", "From", versions, a, (id) => {
    a = id;
    run().catch(fail);
  });
  const [lb, sb] = versionSelect("diff-b", "To", versions, b, (id) => {
    b = id;
    run().catch(fail);
  });
  run().catch(fail);
  return h(
    "section",
    { class: "card", "aria-labelledby": "diff-title" },
    h("h2", { id: "diff-title" }, "Compare versions"),
    h("div", { class: "row" }, la, sa, lb, sb),
    out,
  );
}

function playgroundPanel(prompt, versions, bodyOf, params) {
  const legacy = !prompt.tags;
  const production =
    versions.find((v) => v.environments?.includes("production") || v.metadata?.isProduction) || versions[0];
  const chosen = versions.find((v) => v.id === params.get("v")) || production;
  const holder = h("div", {});
  // The editor of the version last chosen, and none before its body is in: typed into while
  // the next version loads, the previous editor would send (or lose) what was typed.
  let token = 0;
  const show = async (versionId) => {
    setParams({ v: versionId });
    const mine = ++token;
    loading(holder, "Loading the version…");
    const body = await bodyOf(versionId);
    if (mine !== token) return; // another version was chosen meanwhile
    const draft = toDraft(body, "OPENAI");
    const original = JSON.stringify(toBody(toDraft(body, "OPENAI")));
    // Unedited, the gateway expands the version itself (the call is linked to the prompt);
    // edited, the variables are filled in here and the edited body is sent as it is.
    const send = (d, values, key) =>
      !legacy && JSON.stringify(toBody(d)) === original
        ? sendDraft(d, key, { prompt_id: prompt.id, version_id: versionId, inputs: values, messages: [] })
        : sendDraft(d, key, fill(toBody(d), values));
    holder.replaceChildren(playgroundEditor({ draft, variables: variablesOf(body), send, idPrefix: "play" }));
    holder.setAttribute("aria-busy", "false");
  };
  const [lv, select] = versionSelect("play-version", "Version", versions, chosen.id, (id) =>
    show(id).catch((err) => toast(err.message, "error")),
  );
  show(chosen.id).catch((err) => toast(err.message, "error"));
  return h(
    "section",
    { class: "card", "aria-labelledby": "play-title" },
    h("h2", { id: "play-title" }, "Playground"),
    h("div", { class: "row" }, lv, select),
    holder,
  );
}

async function promptData(parts) {
  if (parts[0] === "legacy") {
    const id = parts[1];
    const [found, versions] = await Promise.all([
      post(`/v1/prompt/${encodeURIComponent(id)}/query`, {}),
      post(`/v1/prompt/${encodeURIComponent(id)}/versions/query`, { filter: "all" }),
    ]);
    const sorted = [...versions].sort((x, y) => y.major_version - x.major_version || y.minor_version - x.minor_version);
    const templates = new Map(sorted.map((v) => [v.id, JSON.parse(v.helicone_template)]));
    return {
      prompt: { id, name: found.user_defined_id, tags: null },
      versions: sorted,
      bodyOf: async (vid) => templates.get(vid),
    };
  }
  const id = parts[0];
  const [prompt, versions] = await Promise.all([
    get(`/v1/prompt-2025/id/${encodeURIComponent(id)}`),
    post("/v1/prompt-2025/query/versions", { promptId: id }),
  ]);
  const bodies = new Map();
  const bodyOf = async (vid) => {
    if (!bodies.has(vid)) bodies.set(vid, await get(`/v1/prompt-2025/${encodeURIComponent(vid)}/prompt-body`));
    return bodies.get(vid);
  };
  return { prompt, versions, bodyOf };
}

export async function renderPrompt(main, { parts, params }) {
  main.append(h("p", {}, h("a", { href: "#/prompts" }, "← All prompts")));
  const body = h("div", { id: "prompt-body" });
  main.append(body);
  const load = () =>
    loadInto(
      body,
      () => promptData(parts),
      ({ prompt, versions, bodyOf }) => {
        const current = parseHash().params;
        body.append(
          h(
            "div",
            { class: "page-head" },
            h("h1", {}, prompt.name),
            prompt.tags
              ? h(
                  "span",
                  { class: "chips" },
                  prompt.tags.map((t) => h("span", { class: "chip" }, t)),
                )
              : h("span", { class: "muted" }, "recorded through Helicone-Prompt-Id"),
          ),
          h(
            "section",
            { class: "card", "aria-labelledby": "versions-title" },
            h("h2", { id: "versions-title" }, `Versions (${versions.length})`),
            versionsTable(prompt, versions, load),
          ),
          versions.length
            ? h(
                "div",
                { class: "prompt-grid" },
                diffPanel(versions, bodyOf, current),
                playgroundPanel(prompt, versions, bodyOf, current),
              )
            : emptyState("This prompt has no versions."),
        );
      },
    );
  go(["prompts", ...parts], params);
  await load();
}
