// A server-paged table: sortable headers, keyboard-openable rows, and a pager.
import { h } from "./dom.js";

// `selection` (optional): {ids: Set, idOf(row), onChange()} adds a checkbox column.
export function dataTable({ caption, columns, rows, sort, onSort, onOpen, rowLabel, selection }) {
  const head = h(
    "tr",
    {},
    selection
      ? h(
          "th",
          { scope: "col", class: "select" },
          h("input", {
            type: "checkbox",
            "aria-label": "Select every row on this page",
            checked: rows.length > 0 && rows.every((r) => selection.ids.has(selection.idOf(r))),
            onchange: (e) => {
              for (const r of rows) {
                if (e.target.checked) selection.ids.add(selection.idOf(r));
                else selection.ids.delete(selection.idOf(r));
              }
              e.target.closest("table").querySelectorAll("tbody input[type=checkbox]").forEach((box) => {
                box.checked = e.target.checked;
              });
              selection.onChange();
            },
          }),
        )
      : null,
    columns.map((c) => {
      const dir = sort && sort[c.sort];
      const th = h("th", { scope: "col", class: c.num ? "num" : "", "aria-sort": dir ? (dir === "asc" ? "ascending" : "descending") : undefined });
      if (c.sort && onSort) {
        th.append(
          h(
            "button",
            { type: "button", class: "sort", onclick: () => onSort(c.sort, dir === "desc" ? "asc" : "desc") },
            c.title,
            h("span", { "aria-hidden": "true", class: "arrow" }, dir === "asc" ? " ▲" : dir === "desc" ? " ▼" : ""),
          ),
        );
      } else {
        th.textContent = c.title;
      }
      return th;
    }),
  );
  const body = h(
    "tbody",
    {},
    rows.map((row) => {
      const tr = h(
        "tr",
        {
          tabindex: "0",
          class: "clickable",
          "aria-label": rowLabel ? rowLabel(row) : undefined,
          onclick: () => onOpen(row),
          onkeydown: (e) => {
            if (e.key === "Enter" || e.key === " ") {
              e.preventDefault();
              onOpen(row);
            } else if (e.key === "ArrowDown") {
              e.preventDefault();
              tr.nextElementSibling?.focus();
            } else if (e.key === "ArrowUp") {
              e.preventDefault();
              tr.previousElementSibling?.focus();
            }
          },
        },
        selection
          ? h(
              "td",
              { class: "select", onclick: (e) => e.stopPropagation() },
              h("input", {
                type: "checkbox",
                "aria-label": `Select ${rowLabel ? rowLabel(row) : "row"}`,
                checked: selection.ids.has(selection.idOf(row)),
                onkeydown: (e) => e.stopPropagation(),
                onchange: (e) => {
                  if (e.target.checked) selection.ids.add(selection.idOf(row));
                  else selection.ids.delete(selection.idOf(row));
                  selection.onChange();
                },
              }),
            )
          : null,
        columns.map((c) => h("td", { class: c.num ? "num" : "" }, c.cell(row))),
      );
      return tr;
    }),
  );
  return h("div", { class: "table-wrap" }, h("table", { class: "data" }, h("caption", { class: "visually-hidden" }, caption), h("thead", {}, head), body));
}

export function pager({ offset, limit, shown, total, onPage, onLimit }) {
  const from = shown ? offset + 1 : 0;
  const to = offset + shown;
  const hasNext = total === null || total === undefined ? shown === limit : to < total;
  const summary = total === null || total === undefined ? `${from}–${to}` : `${from.toLocaleString()}–${to.toLocaleString()} of ${total.toLocaleString()}`;
  return h(
    "nav",
    { class: "pager", "aria-label": "Pages" },
    h("span", { class: "muted", "aria-live": "polite" }, summary),
    h(
      "label",
      {},
      "Rows per page ",
      h(
        "select",
        { onchange: (e) => onLimit(Number(e.target.value)) },
        [25, 50, 100, 250].map((n) => h("option", { value: String(n), selected: n === limit }, String(n))),
      ),
    ),
    h("button", { type: "button", class: "ghost", disabled: offset === 0, onclick: () => onPage(Math.max(0, offset - limit)) }, "← Previous"),
    h("button", { type: "button", class: "ghost", disabled: !hasNext, onclick: () => onPage(offset + limit) }, "Next →"),
  );
}
