// A server-paged table: sortable headers, keyboard-openable rows, a pager; optionally
// resizable and reorderable columns (fixed layout, one line per row, sticky header).
import { h } from "./dom.js";

function sortButton(c, sort, onSort) {
  const dir = sort?.[c.sort];
  return h(
    "button",
    { type: "button", class: "sort", onclick: () => onSort(c.sort, dir === "desc" ? "asc" : "desc") },
    c.title,
    h("span", { "aria-hidden": "true", class: "arrow" }, dir === "asc" ? " ▲" : dir === "desc" ? " ▼" : ""),
  );
}

// Drag the handle, or focus it and press ←/→; the width is reported once the drag ends.
function resizeHandle(c, col, onResize) {
  // A focusable separator is a control: it says its value (the width in pixels).
  const handle = h("span", {
    class: "col-resize",
    role: "separator",
    tabindex: "0",
    "aria-orientation": "vertical",
    "aria-label": `Resize column ${c.title}`,
    "aria-valuemin": "48",
    "aria-valuemax": "2000",
    "aria-valuenow": "140",
  });
  const width = () => col.getBoundingClientRect().width;
  const set = (px) => {
    const value = Math.max(48, Math.round(px));
    col.style.width = `${value}px`;
    handle.setAttribute("aria-valuenow", String(value));
  };
  requestAnimationFrame(() => handle.setAttribute("aria-valuenow", String(Math.round(width()) || 140)));
  handle.addEventListener("pointerdown", (e) => {
    e.preventDefault();
    e.stopPropagation();
    const startX = e.clientX;
    const startW = width();
    handle.setPointerCapture(e.pointerId);
    const move = (ev) => set(startW + ev.clientX - startX);
    const up = () => {
      handle.removeEventListener("pointermove", move);
      handle.removeEventListener("pointerup", up);
      onResize(c.id, Math.round(width()));
    };
    handle.addEventListener("pointermove", move);
    handle.addEventListener("pointerup", up);
  });
  handle.addEventListener("keydown", (e) => {
    if (e.key !== "ArrowLeft" && e.key !== "ArrowRight") return;
    e.preventDefault();
    set(width() + (e.key === "ArrowRight" ? 24 : -24));
    onResize(c.id, Math.round(width()));
  });
  handle.addEventListener("click", (e) => e.stopPropagation());
  return handle;
}

function headerCell(c, ctx) {
  const { sort, onSort, layout, cols } = ctx;
  const dir = sort?.[c.sort];
  const th = h("th", {
    scope: "col",
    class: c.num ? "num" : "",
    "data-col": c.id,
    "aria-sort": dir ? (dir === "asc" ? "ascending" : "descending") : undefined,
  });
  th.append(c.sort && onSort ? sortButton(c, sort, onSort) : h("span", { class: "th-text" }, c.title));
  if (layout) {
    th.draggable = true;
    th.addEventListener("dragstart", (e) => {
      e.dataTransfer.setData("text/x-helioscope-column", c.id);
      e.dataTransfer.effectAllowed = "move";
    });
    th.addEventListener("dragover", (e) => {
      if (e.dataTransfer.types.includes("text/x-helioscope-column")) e.preventDefault();
    });
    th.addEventListener("drop", (e) => {
      e.preventDefault();
      const from = e.dataTransfer.getData("text/x-helioscope-column");
      if (from && from !== c.id) layout.onReorder(from, c.id);
    });
    th.append(resizeHandle(c, cols.get(c.id), layout.onResize));
  }
  return th;
}

function selectAllCell(rows, selection) {
  return h(
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
        for (const box of e.target.closest("table").querySelectorAll("tbody input[type=checkbox]")) {
          box.checked = e.target.checked;
        }
        selection.onChange();
      },
    }),
  );
}

function selectCell(row, selection, label) {
  return h(
    "td",
    { class: "select", onclick: (e) => e.stopPropagation() },
    h("input", {
      type: "checkbox",
      "aria-label": `Select ${label}`,
      checked: selection.ids.has(selection.idOf(row)),
      onkeydown: (e) => e.stopPropagation(),
      onchange: (e) => {
        if (e.target.checked) selection.ids.add(selection.idOf(row));
        else selection.ids.delete(selection.idOf(row));
        selection.onChange();
      },
    }),
  );
}

function bodyRow(row, ctx) {
  const { columns, onOpen, rowLabel, selection, activeId, idOf } = ctx;
  const label = rowLabel ? rowLabel(row) : "row";
  const tr = h(
    "tr",
    {
      tabindex: "0",
      class: "clickable",
      "aria-label": rowLabel ? label : undefined,
      "aria-current": activeId && idOf && idOf(row) === activeId ? "true" : undefined,
      "data-id": idOf ? idOf(row) : undefined,
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
    selection ? selectCell(row, selection, label) : null,
    columns.map((c) => {
      const value = c.cell(row);
      return h("td", { class: c.num ? "num" : "", title: c.tip ? c.tip(row) : undefined }, value);
    }),
  );
  return tr;
}

/**
 * columns: [{id, title, cell(row), sort?, num?, width?, tip?(row)}]. layout (optional):
 * {widths: {id: px}, onResize(id, px), onReorder(fromId, toId)} makes columns resizable and
 * reorderable, with a fixed layout and one line per row.
 */
export function dataTable(options) {
  const { caption, columns, rows, selection, layout } = options;
  const cols = new Map();
  let colgroup = null;
  if (layout) {
    colgroup = h("colgroup", {}, selection ? h("col", { class: "col-select" }) : null);
    for (const c of columns) {
      const col = h("col");
      col.style.width = `${layout.widths[c.id] || c.width || 140}px`;
      cols.set(c.id, col);
      colgroup.append(col);
    }
  }
  const ctx = { ...options, cols };
  const head = h(
    "tr",
    {},
    selection ? selectAllCell(rows, selection) : null,
    columns.map((c) => headerCell(c, ctx)),
  );
  const table = h(
    "table",
    { class: `data${layout ? " fixed" : ""}` },
    h("caption", { class: "visually-hidden" }, caption),
    colgroup,
    h("thead", {}, head),
    h(
      "tbody",
      {},
      rows.map((row) => bodyRow(row, ctx)),
    ),
  );
  return h("div", { class: `table-wrap${layout ? " scroll" : ""}` }, table);
}

/** The pager of a page whose state has {offset, limit}: changes it, then calls reload(). */
export function statePager(state, shown, total, reload) {
  return pager({
    offset: state.offset,
    limit: state.limit,
    shown,
    total,
    onPage: (offset) => {
      state.offset = offset;
      reload();
    },
    onLimit: (limit) => {
      state.limit = limit;
      state.offset = 0;
      reload();
    },
  });
}

export function pager({ offset, limit, shown, total, onPage, onLimit }) {
  const from = shown ? offset + 1 : 0;
  const to = offset + shown;
  const hasNext = total === null || total === undefined ? shown === limit : to < total;
  const summary =
    total === null || total === undefined
      ? `${from}–${to}`
      : `${from.toLocaleString()}–${to.toLocaleString()} of ${total.toLocaleString()}`;
  return h(
    "nav",
    { class: "pager", "aria-label": "Pages" },
    h("span", { class: "muted", "aria-live": "polite" }, summary),
    onLimit
      ? h(
          "label",
          {},
          "Rows per page ",
          h(
            "select",
            { onchange: (e) => onLimit(Number(e.target.value)) },
            [25, 50, 100, 250].map((n) => h("option", { value: String(n), selected: n === limit }, String(n))),
          ),
        )
      : "",
    h(
      "button",
      { type: "button", class: "ghost", disabled: offset === 0, onclick: () => onPage(Math.max(0, offset - limit)) },
      "← Previous",
    ),
    h(
      "button",
      { type: "button", class: "ghost", disabled: !hasNext, onclick: () => onPage(offset + limit) },
      "Next →",
    ),
  );
}
