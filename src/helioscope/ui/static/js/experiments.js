// Experiments: rows of inputs × prompt versions, each cell an output run through the gateway,
// with per-version score aggregates, evaluators, and runs of one cell or all of them.
import { call, get, post } from "./api.js";
import { textPreview } from "./chat.js";
import { clear, h, toast } from "./dom.js";
import { scoreEntries, time, truncate } from "./format.js";
import { emptyState, errorState, loadInto, loading } from "./states.js";
import { dataTable } from "./table.js";
import { hashOf } from "./url.js";

const label = (v) => `v${v.major_version}.${v.minor_version}`;

export async function renderExperiments(main) {
  const results = h("div", { class: "results" });
  main.append(h("div", { class: "page-head" }, h("h1", {}, "Experiments")), results);
  await loadInto(
    results,
    () => get("/v2/experiment"),
    (list) => {
      if (!list.length) {
        results.append(emptyState("No experiments yet. Open a request and choose “Experiment from this request”."));
        return;
      }
      results.append(
        dataTable({
          caption: "Experiments",
          columns: [
            { id: "name", title: "Name", cell: (x) => x.name },
            { id: "inputs", title: "Inputs", cell: (x) => (x.input_keys || []).join(", ") || "–" },
            { id: "created", title: "Created", cell: (x) => time(x.created_at) },
          ],
          rows: list,
          onOpen: (x) => {
            location.hash = hashOf(["experiments", x.id]);
          },
          rowLabel: (x) => `Experiment ${x.name}`,
        }),
      );
    },
  );
}

function renameControl(exp, reload) {
  const holder = h("span", { class: "rename" });
  const show = () =>
    holder.replaceChildren(
      h(
        "button",
        { type: "button", class: "ghost small", "aria-label": `Rename experiment ${exp.name}`, onclick: edit },
        "Rename",
      ),
    );
  const edit = () => {
    const input = h("input", {
      type: "text",
      id: "experiment-name",
      value: exp.name,
      maxlength: "200",
      required: true,
    });
    holder.replaceChildren(
      h(
        "form",
        {
          class: "row inline",
          onsubmit: async (e) => {
            e.preventDefault();
            try {
              await call("PATCH", `/v1/helioscope/experiments/${encodeURIComponent(exp.id)}`, {
                name: input.value.trim(),
              });
              toast("Renamed");
              await reload();
            } catch (err) {
              toast(err.message, "error");
            }
          },
        },
        h("label", { for: "experiment-name", class: "visually-hidden" }, "Experiment name"),
        input,
        h("button", { type: "submit", class: "ghost small" }, "Save name"),
        h("button", { type: "button", class: "ghost small", onclick: show }, "Cancel"),
      ),
    );
    input.focus();
  };
  show();
  return holder;
}

function cellScores(out) {
  const entries = scoreEntries(out?.scores);
  if (!entries.length) return "";
  return h(
    "span",
    { class: "chips cell-scores" },
    entries.map(([k, v]) => h("span", { class: "chip score" }, `${k}: ${v}`)),
  );
}

function rowInputs(row) {
  const auto = (row.auto_prompt_inputs || []).map((m) =>
    typeof m === "object" ? `${m.role || "message"}: ${textPreview({ messages: [m] }, "request")}` : String(m),
  );
  const named = Object.entries(row.inputs || {}).map(([k, v]) => `${k}: ${v}`);
  return h(
    "div",
    { class: "row-inputs" },
    [...named, ...auto].map((t) => h("div", {}, truncate(t, 140))),
  );
}

function scoreChips(scores) {
  const entries = Object.entries(scores || {});
  if (!entries.length) return h("span", { class: "muted small" }, "no scores yet");
  return h(
    "span",
    { class: "chips" },
    entries.map(([k, s]) => {
      const bool = k.endsWith("-hcone-bool");
      const name = bool ? k.slice(0, -"-hcone-bool".length) : k;
      const value = bool ? `${Math.round(s.value * 100)}%` : s.value.toFixed(2);
      return h(
        "span",
        { class: "chip score", title: `min ${s.min}, max ${s.max}, over ${s.count}` },
        `${name}: ${value}`,
      );
    }),
  );
}

function newVersionForm(experimentId, base, reload) {
  const template =
    typeof base.helicone_template === "string" ? JSON.parse(base.helicone_template) : base.helicone_template;
  const area = h(
    "textarea",
    { id: "new-version-template", rows: "10", spellcheck: false },
    JSON.stringify(template, null, 2),
  );
  return h(
    "details",
    { class: "card new-version" },
    h("summary", {}, `New version from ${label(base)}`),
    h(
      "form",
      {
        onsubmit: async (e) => {
          e.preventDefault();
          let parsed;
          try {
            parsed = JSON.parse(area.value);
          } catch (err) {
            toast(`The template is not valid JSON: ${err.message}`, "error");
            return;
          }
          try {
            await post(`/v2/experiment/${encodeURIComponent(experimentId)}/prompt-version`, {
              newHeliconeTemplate: parsed,
              parentPromptVersionId: base.id,
            });
            toast("Version added");
            await reload();
          } catch (err) {
            toast(err.message, "error");
          }
        },
      },
      h("label", { for: "new-version-template" }, "Template (JSON)"),
      area,
      h("button", { type: "submit", class: "primary" }, "Add version"),
    ),
  );
}

// What the last evaluators' run could not score, and why (the run status keeps it): an
// evaluator whose code fails left its outputs unscored with no sign on the page.
function evaluatorErrors(errors) {
  if (!errors.length) return "";
  const n = errors.length;
  return h(
    "div",
    { class: "form-error", role: "alert", id: "evaluator-errors" },
    h("p", {}, `${n} evaluation${n === 1 ? "" : "s"} failed in the last run; those outputs stay unscored:`),
    h(
      "ul",
      {},
      errors.slice(0, 20).map((e) => h("li", {}, truncate(e, 400))),
    ),
    n > 20 ? h("p", {}, `and ${n - 20} more`) : "",
  );
}

async function evaluatorsPanel(experimentId, reload) {
  const enc = encodeURIComponent(experimentId);
  const [attached, all, status] = await Promise.all([
    get(`/v2/experiment/${enc}/evaluators`),
    post("/v1/evaluator/query", {}),
    get(`/v2/experiment/${enc}/run/status`),
  ]);
  const free = all.filter((e) => !attached.some((a) => a.id === e.id));
  const pick = h(
    "select",
    { id: "evaluator-pick" },
    free.map((e) => h("option", { value: e.id }, `${e.name} (${e.scoring_type})`)),
  );
  return h(
    "section",
    { class: "card", "aria-labelledby": "eval-title" },
    h("h2", { id: "eval-title" }, "Evaluators"),
    attached.length
      ? h(
          "ul",
          { class: "plain" },
          attached.map((e) =>
            h(
              "li",
              { class: "row" },
              h("span", {}, `${e.name} · ${e.scoring_type}`),
              h(
                "button",
                {
                  type: "button",
                  class: "ghost small",
                  "aria-label": `Detach ${e.name}`,
                  onclick: async () => {
                    await call(
                      "DELETE",
                      `/v2/experiment/${encodeURIComponent(experimentId)}/evaluators/${encodeURIComponent(e.id)}`,
                    );
                    await reload();
                  },
                },
                "Detach",
              ),
            ),
          ),
        )
      : h("p", { class: "muted" }, "None attached."),
    free.length
      ? h(
          "form",
          {
            class: "row",
            onsubmit: async (e) => {
              e.preventDefault();
              try {
                await post(`/v2/experiment/${encodeURIComponent(experimentId)}/evaluators`, {
                  evaluatorId: pick.value,
                });
                await reload();
              } catch (err) {
                toast(err.message, "error");
              }
            },
          },
          h("label", { for: "evaluator-pick" }, "Add evaluator"),
          pick,
          h("button", { type: "submit", class: "ghost small" }, "Attach"),
        )
      : h(
          "p",
          { class: "muted" },
          all.length ? "Every evaluator is attached." : "No evaluators exist yet (POST /v1/evaluator).",
        ),
    attached.length
      ? h(
          "button",
          {
            type: "button",
            class: "ghost",
            onclick: async (e) => {
              e.target.disabled = true;
              try {
                await post(`/v2/experiment/${enc}/evaluators/run`, {});
                const after = await get(`/v2/experiment/${enc}/run/status`);
                const failed = after.evaluatorErrors.length;
                if (failed) toast(`${failed} evaluation${failed === 1 ? "" : "s"} failed`, "error");
                else toast("Scored");
                await reload();
              } catch (err) {
                toast(err.message, "error");
                e.target.disabled = false;
              }
            },
          },
          "Run evaluators",
        )
      : "",
    evaluatorErrors(status.evaluatorErrors),
  );
}

// Polls until the run is done; null once the page is left (``signal``): it polled on before.
async function waitForRun(experimentId, status, signal) {
  for (;;) {
    if (signal?.aborted) return null;
    const s = await get(`/v2/experiment/${encodeURIComponent(experimentId)}/run/status`);
    status.textContent = `${s.succeeded} done, ${s.failed} failed, ${s.pending + s.inProgress} to go`;
    if (!s.running && s.pending === 0 && s.inProgress === 0) return s;
    await new Promise((r) => setTimeout(r, 400));
  }
}

export async function renderExperiment(main, { parts, signal }) {
  const id = parts[0];
  const enc = encodeURIComponent(id);
  main.append(h("p", {}, h("a", { href: "#/experiments" }, "← All experiments")));
  const body = h("div", { id: "experiment-body" });
  main.append(body);
  loading(body);
  let lastRun = ""; // survives the re-render that follows a run
  async function load() {
    body.setAttribute("aria-busy", "true");
    try {
      const [exp, versions, datasets] = await Promise.all([
        get(`/v2/experiment/${enc}`),
        get(`/v2/experiment/${enc}/prompt-versions`),
        post("/v1/helicone-dataset/query", {}),
      ]);
      const scores = await Promise.all(
        versions.map((v) => get(`/v1/helioscope/experiments/${enc}/${encodeURIComponent(v.id)}/scores`)),
      );
      const requestIds = exp.rows.flatMap((r) => r.requests.map((c) => c.request_id)).filter(Boolean);
      const outputs = new Map();
      for (let i = 0; i < requestIds.length; i += 1000) {
        for (const r of await post("/v1/helioscope/requests/by-ids", { requestIds: requestIds.slice(i, i + 1000) }))
          outputs.set(r.request_id, r);
      }
      const status = h("span", { class: "muted", "aria-live": "polite", id: "run-status" }, lastRun);
      const runCells = async (payload) => {
        await post(`/v2/experiment/${enc}/run`, payload);
        const done = await waitForRun(id, status, signal);
        if (!done) return;
        lastRun = `Run finished: ${done.succeeded} succeeded, ${done.failed} failed`;
        await load();
      };
      const cell = (row, v) => {
        const c = row.requests.find((x) => x.prompt_version_id === v.id);
        const out = c && outputs.get(c.request_id);
        const runOne = h(
          "button",
          {
            type: "button",
            class: "ghost small",
            "aria-label": `${c ? "Re-run" : "Run"} row ${exp.rows.indexOf(row) + 1} with ${label(v)}`,
            onclick: async (e) => {
              e.target.disabled = true;
              e.target.textContent = "Running…";
              try {
                await post(`/v2/experiment/${enc}/run-hypothesis`, { inputRecordId: row.id, promptVersionId: v.id });
                await load();
              } catch (err) {
                toast(err.message, "error");
                e.target.disabled = false;
                e.target.textContent = "Run";
              }
            },
          },
          c ? "Re-run" : "Run",
        );
        return h(
          "td",
          { class: `cell ${c ? c.status : "not-run"}`, "data-version": label(v) },
          c && c.status === "success" && out
            ? [
                h(
                  "a",
                  { class: "output", href: hashOf(["requests", c.request_id]) },
                  truncate(textPreview(out.response_body, "response"), 200) || "(empty output)",
                ),
                cellScores(out),
              ]
            : c
              ? h("span", { class: c.status === "failed" ? "status bad" : "muted" }, c.error || c.status)
              : h("span", { class: "muted" }, "not run"),
          h("div", { class: "cell-actions" }, c?.is_original ? h("span", { class: "badge" }, "original") : "", runOne),
        );
      };
      const original = versions.find((v) => v.id === exp.copied_original_prompt_version) || versions[0];
      const datasetPick = h(
        "select",
        { id: "rows-dataset" },
        datasets.map((d) => h("option", { value: d.id }, `${d.name} (${d.requests_count})`)),
      );
      clear(body).append(
        h(
          "div",
          { class: "page-head" },
          h("h1", {}, exp.name),
          renameControl({ ...exp, id }, load),
          h(
            "div",
            { class: "toolbar" },
            status,
            h(
              "button",
              {
                type: "button",
                class: "primary",
                onclick: async (e) => {
                  e.target.disabled = true;
                  try {
                    await runCells({});
                  } catch (err) {
                    toast(err.message, "error");
                    e.target.disabled = false;
                  }
                },
              },
              "Run all cells",
            ),
          ),
        ),
        h(
          "div",
          { class: "table-wrap" },
          h(
            "table",
            { class: "data grid", id: "experiment-grid" },
            h("caption", { class: "visually-hidden" }, "Experiment grid: rows of inputs by prompt versions"),
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                h("th", { scope: "col" }, "Inputs"),
                versions.map((v, i) =>
                  h(
                    "th",
                    { scope: "col" },
                    h(
                      "div",
                      {},
                      `${label(v)} · ${v.model || ""}`,
                      v.id === exp.copied_original_prompt_version ? h("span", { class: "muted" }, " (original)") : "",
                    ),
                    scoreChips(scores[i]),
                  ),
                ),
              ),
            ),
            h(
              "tbody",
              {},
              exp.rows.map((row, i) =>
                h(
                  "tr",
                  {},
                  h("th", { scope: "row" }, h("span", { class: "muted" }, `Row ${i + 1}`), rowInputs(row)),
                  versions.map((v) => cell(row, v)),
                ),
              ),
            ),
          ),
        ),
        exp.rows.length ? "" : h("p", { class: "empty" }, "No rows yet: add rows from a dataset."),
        h(
          "div",
          { class: "prompt-grid" },
          h(
            "section",
            { class: "card" },
            h("h2", {}, "Rows"),
            datasets.length
              ? h(
                  "form",
                  {
                    class: "row",
                    onsubmit: async (e) => {
                      e.preventDefault();
                      try {
                        await post(
                          `/v2/experiment/${enc}/row/insert/dataset/${encodeURIComponent(datasetPick.value)}`,
                          {},
                        );
                        toast("Rows added");
                        await load();
                      } catch (err) {
                        toast(err.message, "error");
                      }
                    },
                  },
                  h("label", { for: "rows-dataset" }, "Add rows from dataset"),
                  datasetPick,
                  h("button", { type: "submit", class: "ghost small" }, "Add rows"),
                )
              : h("p", { class: "muted" }, "Create a dataset from selected requests to add rows."),
            original ? newVersionForm(id, original, load) : "",
          ),
          await evaluatorsPanel(id, load),
        ),
      );
    } catch (err) {
      clear(body).append(errorState(err, load));
    } finally {
      body.setAttribute("aria-busy", "false");
    }
  }
  await load();
}
