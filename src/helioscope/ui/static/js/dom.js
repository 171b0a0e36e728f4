// A tiny element builder: h("div", {class: "x", onclick: fn}, child, "text", [more]).
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === "class") {
      el.className = value;
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (key in el && typeof value !== "string") {
      el[key] = value;
    } else {
      el.setAttribute(key, value === true ? "" : value);
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";

export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null) el.setAttribute(key, value);
  }
  append(el, children);
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

let toastTimer;
export function toast(message, kind = "info") {
  const el = document.getElementById("toast");
  el.textContent = message;
  el.dataset.kind = kind;
  el.classList.add("show");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.classList.remove("show"), 4000);
}

let idCounter = 0;
export function uid(prefix = "id") {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/**
 * A <details> popover that closes like a menu: Escape (focus back on its button) or a click
 * elsewhere. Returns the popover.
 */
export function closesLikeAMenu(popover) {
  popover.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && popover.open) {
      e.stopPropagation();
      popover.open = false;
      popover.querySelector("summary").focus();
    }
  });
  const onDocumentClick = (e) => {
    if (!popover.isConnected) document.removeEventListener("click", onDocumentClick);
    // The path as dispatched: a button the menu redrew is detached, but was inside it.
    else if (popover.open && !e.composedPath().includes(popover)) popover.open = false;
  };
  document.addEventListener("click", onDocumentClick);
  return popover;
}
