// A line diff (longest common subsequence) of two texts, for comparing prompt versions.
import { h } from "./dom.js";

export function diffLines(a, b) {
  const x = a.split("\n");
  const y = b.split("\n");
  const n = x.length;
  const m = y.length;
  // lcs[i][j]: length of the common subsequence of x[i:] and y[j:].
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i -= 1) {
    for (let j = m - 1; j >= 0; j -= 1) {
      lcs[i][j] = x[i] === y[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const out = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (x[i] === y[j]) {
      out.push([" ", x[i]]);
      i += 1;
      j += 1;
    } else if (lcs[i + 1][j] >= lcs[i][j + 1]) {
      out.push(["-", x[i]]);
      i += 1;
    } else {
      out.push(["+", y[j]]);
      j += 1;
    }
  }
  while (i < n) out.push(["-", x[i++]]);
  while (j < m) out.push(["+", y[j++]]);
  return out;
}

export function renderDiff(a, b, labels) {
  const lines = diffLines(a, b);
  const added = lines.filter(([t]) => t === "+").length;
  const removed = lines.filter(([t]) => t === "-").length;
  return h(
    "div",
    { class: "diff-box" },
    h("p", { class: "muted" }, added + removed ? `${labels[0]} → ${labels[1]}: ${removed} line${removed === 1 ? "" : "s"} removed, ${added} added` : "The two versions are identical."),
    h(
      "pre",
      { class: "diff", "aria-label": `Differences between ${labels[0]} and ${labels[1]}` },
      lines.map(([t, text]) =>
        h("span", { class: t === "+" ? "add" : t === "-" ? "del" : "same" }, h("span", { class: "visually-hidden" }, t === "+" ? "added: " : t === "-" ? "removed: " : ""), `${t} ${text}\n`),
      ),
    ),
  );
}
