// A word-level diff (longest common subsequence over words and spaces), shown side by side:
// what was removed on the left, what was added on the right.
import { h } from "./dom.js";

const MAX_TOKENS = 6000; // past this the LCS table gets too big; compare lines instead

function tokens(text) {
  return text.match(/\s+|[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]/gu) || [];
}

/** [[op, text]] with op " " (same), "-" (only in a), "+" (only in b). */
export function diffTokens(x, y) {
  const n = x.length;
  const m = y.length;
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
      out.push([" ", x[i++]]);
      j += 1;
    } else if (lcs[i + 1][j] >= lcs[i][j + 1]) out.push(["-", x[i++]]);
    else out.push(["+", y[j++]]);
  }
  while (i < n) out.push(["-", x[i++]]);
  while (j < m) out.push(["+", y[j++]]);
  return out;
}

export function diffWords(a, b) {
  let x = tokens(a);
  let y = tokens(b);
  if (x.length > MAX_TOKENS || y.length > MAX_TOKENS) {
    x = a.split(/(?<=\n)/);
    y = b.split(/(?<=\n)/);
  }
  return diffTokens(x, y);
}

const isWord = (t) => /\S/.test(t);

export function renderDiff(a, b, labels) {
  const parts = diffWords(a, b);
  const removed = parts.filter(([t, s]) => t === "-" && isWord(s)).length;
  const added = parts.filter(([t, s]) => t === "+" && isWord(s)).length;
  const side = (keep, mark, tag, label) =>
    h(
      "div",
      { class: "diff-side" },
      h("div", { class: "diff-label muted" }, label),
      h(
        "pre",
        { class: "diff", "aria-label": label },
        parts
          .filter(([t]) => t === " " || t === keep)
          .map(([t, text]) => (t === keep ? h(tag, { class: mark }, text) : text)),
      ),
    );
  const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
  return h(
    "div",
    { class: "diff-box" },
    h(
      "p",
      { class: "muted" },
      added + removed
        ? `${labels[0]} → ${labels[1]}: ${plural(removed, "word")} removed, ${plural(added, "word")} added`
        : "The two versions are identical.",
    ),
    h(
      "div",
      { class: "diff-sides" },
      side("-", "del", "del", `${labels[0]} (removed)`),
      side("+", "add", "ins", `${labels[1]} (added)`),
    ),
  );
}
