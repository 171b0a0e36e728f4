// A searchable, sortable, server-paged list page (Sessions, Users): its search, time range,
// sort and page live in the URL (?q= &r= &s= &o= &l=), with loading, error and empty states.
import { h } from "./dom.js";
import { rangeFromParams, rangeParams, rangePicker } from "./ranges.js";
import { emptyState, loadInto } from "./states.js";
import { dataTable, statePager } from "./table.js";
import { intParam, parseSort, setParams, sortText } from "./url.js";

/**
 * spec: {id, title, searchLabel, placeholder, columns, defaultSort, defaultRange,
 * fetch(state) -> {rows, total, empty}, onOpen(row), rowLabel(row), toolbar?, above?}
 */
export function listPage(main, params, spec) {
  const state = {
    search: params.get("q") || "",
    range: rangeFromParams(params, spec.defaultRange),
    sort: parseSort(params.get("s"), spec.defaultSort),
    offset: intParam(params, "o", 0),
    limit: [25, 50, 100, 250].includes(intParam(params, "l", 50)) ? intParam(params, "l", 50) : 50,
  };
  const results = h("div", { class: "results", id: `${spec.id}-results` });
  const save = () =>
    setParams({
      q: state.search,
      ...rangeParams(state.range),
      r: state.range.range === spec.defaultRange ? "" : state.range.range,
      s: sortText(state.sort) === sortText(spec.defaultSort) ? "" : sortText(state.sort),
      o: state.offset || "",
      l: state.limit === 50 ? "" : state.limit,
    });
  const load = ({ quiet = false } = {}) => {
    save();
    return loadInto(
      results,
      () => spec.fetch(state),
      ({ rows, total, empty }) => {
        if (!rows.length) results.append(emptyState(empty));
        else {
          results.append(
            dataTable({
              caption: spec.title,
              columns: spec.columns,
              rows,
              sort: state.sort,
              onSort: (key, dir) => {
                state.sort = { [key]: dir };
                state.offset = 0;
                load();
              },
              onOpen: spec.onOpen,
              rowLabel: spec.rowLabel,
            }),
          );
        }
        results.append(statePager(state, rows.length, total, load));
      },
      { quiet },
    );
  };
  const search = h("input", {
    type: "search",
    id: `${spec.id}-search`,
    value: state.search,
    placeholder: spec.placeholder,
  });
  main.append(
    h(
      "div",
      { class: "page-head" },
      h("h1", {}, spec.title),
      spec.toolbar ? h("div", { class: "toolbar" }, spec.toolbar) : "",
    ),
    h(
      "div",
      { class: "card row search-bar" },
      h(
        "form",
        {
          class: "row inline",
          role: "search",
          onsubmit: (e) => {
            e.preventDefault();
            state.search = search.value.trim();
            state.offset = 0;
            load();
          },
        },
        h("label", { for: `${spec.id}-search` }, spec.searchLabel),
        search,
        h("button", { type: "submit", class: "primary" }, "Search"),
      ),
      rangePicker({
        id: `${spec.id}-range`,
        state: state.range,
        onChange: (range) => {
          state.range = range;
          state.offset = 0;
          load();
        },
      }),
    ),
    spec.above || "",
    results,
  );
  return { state, load, results };
}
