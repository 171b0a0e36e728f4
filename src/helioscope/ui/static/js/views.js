// Saved views of the Requests page: a name for a filter, a time range and columns (the page's
// URL), kept in this browser for the signed-in organization.
import { scopeId } from "./auth.js";
import { h, toast } from "./dom.js";

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
  const box = h("div", { class: "columns-box views-box", role: "group", "aria-label": "Saved views" });
  const name = h("input", {
    type: "text",
    id: "view-name",
    maxlength: "80",
    placeholder: "e.g. slow production calls",
  });
  const draw = () => {
    const views = savedViews();
    box.replaceChildren(
      h("p", { class: "legend" }, "Saved views"),
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
                      draw();
                    },
                  },
                  "Delete",
                ),
              ),
            ),
          )
        : h("p", { class: "muted small" }, "None yet."),
      h(
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
            draw();
          },
        },
        h("label", { for: "view-name" }, "Save as"),
        name,
        h("button", { type: "submit", class: "ghost small" }, "Save view"),
      ),
    );
  };
  draw();
  const popover = h("details", { class: "popover" }, h("summary", { class: "button ghost" }, "Views"), box);
  popover.addEventListener("toggle", () => popover.open && draw());
  return popover;
}
