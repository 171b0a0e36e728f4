// Datasets of logged requests: built from selected requests, listed, browsed and exported.
import { post } from "./api.js";
import { currentKey } from "./auth.js";
import { h, toast } from "./dom.js";
import { textPreview } from "./chat.js";
import { num, time, truncate } from "./format.js";
import { emptyState, errorState, loadInto } from "./states.js";
import { dataTable, pager } from "./table.js";
import { hashOf } from "./url.js";

// "Add N requests to [new dataset named … | an existing one]".
export function datasetForm(requestIds, done) {
  const target = h(
    "select",
    { id: "dataset-target", "aria-label": "Dataset" },
    h("option", { value: "" }, "a new dataset named…"),
  );
  const name = h("input", {
    id: "dataset-name",
    type: "text",
    placeholder: "dataset name",
    "aria-label": "New dataset name",
  });
  post("/v1/helicone-dataset/query", {})
    .then((sets) => target.append(...sets.map((d) => h("option", { value: d.id }, d.name || d.id))))
    .catch(() => {});
  target.addEventListener("change", () => {
    name.hidden = target.value !== "";
  });
  return h(
    "form",
    {
      class: "row inline",
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          if (target.value) {
            await post(`/v1/helicone-dataset/${encodeURIComponent(target.value)}/mutate`, {
              addRequests: requestIds,
              removeRequests: [],
            });
          } else {
            if (!name.value.trim()) {
              name.focus();
              toast("Name the new dataset", "error");
              return;
            }
            await post("/v1/helicone-dataset", { datasetName: name.value.trim(), requestIds });
          }
          toast(`Added ${requestIds.length} request${requestIds.length === 1 ? "" : "s"} to the dataset`);
          done();
        } catch (err) {
          toast(err.message, "error");
        }
      },
    },
    h("label", { for: "dataset-target" }, "Add to"),
    target,
    name,
    h("button", { type: "submit", class: "primary small" }, "Add to dataset"),
  );
}

export async function renderDatasets(main) {
  const results = h("div", { class: "results" });
  main.append(h("div", { class: "page-head" }, h("h1", {}, "Datasets")), results);
  await loadInto(
    results,
    () => post("/v1/helicone-dataset/query", {}),
    (sets) => {
      if (!sets.length) {
        results.append(emptyState("No datasets yet. Select requests on the Requests page and add them to a dataset."));
        return;
      }
      results.append(
        dataTable({
          caption: "Datasets",
          columns: [
            { id: "name", title: "Name", cell: (d) => d.name || "(unnamed)" },
            { id: "rows", title: "Rows", num: true, cell: (d) => num(d.requests_count) },
            { id: "type", title: "Type", cell: (d) => d.dataset_type },
            { id: "created", title: "Created", cell: (d) => time(d.created_at) },
          ],
          rows: sets,
          onOpen: (d) => {
            location.hash = `#/datasets/${encodeURIComponent(d.id)}`;
          },
          rowLabel: (d) => `Dataset ${d.name}`,
        }),
      );
    },
  );
}

async function download(datasetId, name) {
  // The export route needs the key, so fetch it and hand the browser a blob.
  const response = await fetch(`/v1/helicone-dataset/${encodeURIComponent(datasetId)}/export`, {
    headers: { authorization: `Bearer ${currentKey().key}` },
  });
  if (!response.ok) throw new Error(`export failed: HTTP ${response.status}`);
  const url = URL.createObjectURL(await response.blob());
  const a = h("a", { href: url, download: `${name || datasetId}.jsonl` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export async function renderDataset(main, { parts }) {
  const id = parts[0];
  const head = h("div", {});
  main.append(head);
  let dataset;
  try {
    [dataset] = await post("/v1/helicone-dataset/query", { datasetIds: [id] });
  } catch (err) {
    head.append(errorState(err, () => renderDataset(main.replaceChildren() || main, { parts })));
    return undefined;
  }
  let offset = 0;
  const limit = 50;
  const results = h("div", { class: "results", id: "dataset-rows" });
  main.append(
    h("p", {}, h("a", { href: "#/datasets" }, "← All datasets")),
    h(
      "div",
      { class: "page-head" },
      h("h1", {}, dataset?.name || "Dataset"),
      h("span", { class: "count muted" }, `${num(dataset?.requests_count ?? 0)} rows`),
      h(
        "div",
        { class: "toolbar" },
        h(
          "button",
          {
            type: "button",
            class: "ghost",
            onclick: () => download(id, dataset?.name).catch((err) => toast(err.message, "error")),
          },
          "Export JSONL",
        ),
      ),
    ),
    results,
  );
  const load = () =>
    loadInto(
      results,
      () => post(`/v1/helioscope/datasets/${encodeURIComponent(id)}/rows`, { offset, limit }),
      (rows) =>
        results.append(
          dataTable({
            caption: "Dataset rows",
            columns: [
              {
                id: "request",
                title: "Request",
                cell: (r) => h("span", { class: "preview" }, truncate(textPreview(r.request_body, "request"), 80)),
              },
              {
                id: "response",
                title: "Response",
                cell: (r) => h("span", { class: "preview" }, truncate(textPreview(r.response_body, "response"), 80)),
              },
              { id: "origin", title: "Origin request", cell: (r) => h("code", {}, r.origin_request_id) },
              { id: "added", title: "Added", cell: (r) => time(r.created_at) },
            ],
            rows,
            onOpen: (r) => {
              location.hash = hashOf(["requests", r.origin_request_id]);
            },
            rowLabel: (r) => `Row from request ${r.origin_request_id}`,
          }),
          pager({
            offset,
            limit,
            shown: rows.length,
            total: dataset?.requests_count ?? null,
            onPage: (o) => {
              offset = o;
              load();
            },
          }),
        ),
    );
  await load();
  return undefined;
}
