// Saved views of the Requests page: a name for a filter, a time range and columns (the page's
// URL), kept in this browser for the signed-in organization.
import { scopeId } from "./auth.js";
import { closesLikeAMenu, h, toast } from "./dom.js";

const key = () => `helioscope.views.${scopeId()}`;

export function savedViews() {
  try {
    const list = JSON.parse(localStorage.getItem(key()) || "[]");
    return Array.isArray(list) ? list : [];
  } catch {
    return [];
  }
}

function save(list) {
  localStorage.setItem(key(), JSON.stringify(list));
}

/** The Views menu: open a saved view, save the current one under a name, delete one. */
export function viewsMenu(currentHash) {
  const name = h("input", {
    type: "text",
    id: "view-name",
    maxlength: "80",
    placeholder: "e.g. slow production calls",
  });
  // Only the list is redrawn (on opening: another tab may have saved a view). The form is built
  // once: the toggle event comes late on a loaded machine, and rebuilding the form then took
  // the focus out of the name being typed, or the Save button from under a press.
  const list = h("div", {});
  const drawList = () => {
    const views = savedViews();
    list.replaceChildren(
      views.length
        ? h(
            "ul",
            { class: "plain" },
            views.map((v) =>
              h(
                "li",
                { class: "row" },
                h("a", { href: v.hash }, v.name),
                h(
                  "button",
                  {
                    type: "button",
                    class: "ghost small",
                    "aria-label": `Delete view ${v.name}`,
                    onclick: () => {
                      save(savedViews().filter((x) => x.name !== v.name));
                      drawList();
                      name.focus(); // the pressed button is gone: keep the focus in the menu
                    },
                  },
                  "Delete",
                ),
              ),
            ),
          )
        : h("p", { class: "muted small" }, "None yet."),
    );
  };
  const form = h(
    "form",
    {
      class: "row",
      onsubmit: (e) => {
        e.preventDefault();
        const label = name.value.trim();
        if (!label) return name.focus();
        save([...savedViews().filter((x) => x.name !== label), { name: label, hash: currentHash() }]);
        toast(`Saved view “${label}”`);
        name.value = "";
        drawList();
      },
    },
    h("label", { for: "view-name" }, "Save as"),
    name,
    h("button", { type: "submit", class: "ghost small" }, "Save view"),
  );
  const box = h(
    "div",
    { class: "columns-box views-box", role: "group", "aria-label": "Saved views" },
    h("p", { class: "legend" }, "Saved views"),
    list,
    form,
  );
  drawList();
  const popover = h("details", { class: "popover" }, h("summary", { class: "button ghost" }, "Views"), box);
  popover.addEventListener("toggle", () => popover.open && drawList());
  return closesLikeAMenu(popover);
}
