// Building blocks the Settings sections share: a table with its empty state, a confirming button.
import { h, toast } from "./dom.js";

// A destructive button asks once more in place (no window.confirm, which blocks the page).
export function confirmButton(text, confirmText, label, action) {
  const btn = h("button", { type: "button", class: "ghost small danger", "aria-label": label }, text);
  let armed = false;
  btn.addEventListener("click", async () => {
    if (!armed) {
      armed = true;
      btn.textContent = confirmText;
      btn.setAttribute("aria-label", `${confirmText}: ${label}`);
      setTimeout(() => {
        armed = false;
        btn.textContent = text;
        btn.setAttribute("aria-label", label);
      }, 5000);
      return;
    }
    btn.disabled = true;
    try {
      await action();
    } catch (err) {
      toast(err.message, "error");
      btn.disabled = false;
    }
  });
  return btn;
}

export function table(caption, head, rows, empty) {
  if (!rows.length) return h("p", { class: "muted" }, empty);
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "data compact" },
      h("caption", { class: "visually-hidden" }, caption),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          head.map((t) => h("th", { scope: "col" }, t)),
        ),
      ),
      h("tbody", {}, rows),
    ),
  );
}
