// The filter builder: nested and/or groups of conditions over columns, properties and scores,
// producing exactly the filter tree the API takes ("all" | leaf | {left, operator, right}).
import { h, uid } from "./dom.js";

const OPERATORS = {
  text: [
    ["equals", "equals"],
    ["not-equals", "does not equal"],
    ["contains", "contains"],
    ["not-contains", "does not contain"],
    ["like", "like (case-sensitive)"],
    ["ilike", "ilike"],
  ],
  number: [
    ["equals", "="],
    ["not-equals", "≠"],
    ["gt", ">"],
    ["gte", "≥"],
    ["lt", "<"],
    ["lte", "≤"],
  ],
  time: [
    ["gte", "on or after"],
    ["lte", "on or before"],
    ["gt", "after"],
    ["lt", "before"],
  ],
  bool: [["equals", "is"]],
  vector: [["contains", "contains"]],
};

// The request columns a condition can name; `map` columns take a key (property or score name).
export const REQUEST_FIELDS = [
  { id: "properties", label: "Property", kind: "text", map: true },
  { id: "scores", label: "Score", kind: "number", map: true },
  { id: "model", label: "Model", kind: "text" },
  { id: "provider", label: "Provider", kind: "text" },
  { id: "status", label: "Status", kind: "number" },
  { id: "user_id", label: "User", kind: "text" },
  { id: "latency", label: "Latency (ms)", kind: "number" },
  { id: "time_to_first_token", label: "Time to first token (ms)", kind: "number" },
  { id: "prompt_tokens", label: "Prompt tokens", kind: "number" },
  { id: "completion_tokens", label: "Completion tokens", kind: "number" },
  { id: "total_tokens", label: "Total tokens", kind: "number" },
  { id: "cost", label: "Cost (USD)", kind: "number" },
  { id: "request_created_at", label: "Created", kind: "time" },
  { id: "request_id", label: "Request id", kind: "text" },
  { id: "target_url", label: "Target URL", kind: "text" },
  { id: "country_code", label: "Country", kind: "text" },
  { id: "prompt_id", label: "Prompt id", kind: "text" },
  { id: "cache_enabled", label: "Cache enabled", kind: "bool" },
  { id: "threat", label: "Threat", kind: "bool" },
  { id: "helicone-score-feedback", label: "Feedback", kind: "bool" },
  { id: "request_body", label: "Request body", kind: "vector" },
  { id: "response_body", label: "Response body", kind: "vector" },
];

export const emptyGroup = (op = "and") => ({ type: "group", op, items: [] });

export function newCondition(fields) {
  const field = fields[0];
  return { type: "leaf", field: field.id, key: "", operator: OPERATORS[field.kind][0][0], value: "" };
}

function convert(kind, value) {
  if (kind === "number") return Number(value);
  if (kind === "bool") return value === "true";
  if (kind === "time") return new Date(value).toISOString();
  return value;
}

function complete(leaf, field) {
  if (!field) return false;
  if (field.map && !leaf.key.trim()) return false;
  if (field.kind === "bool") return leaf.value === "true" || leaf.value === "false";
  if (leaf.value === "") return false;
  if (field.kind === "number") return Number.isFinite(Number(leaf.value));
  if (field.kind === "time") return !Number.isNaN(new Date(leaf.value).getTime());
  return true;
}

function leafNode(leaf, fields) {
  const field = fields.find((f) => f.id === leaf.field);
  if (!complete(leaf, field)) return null;
  const condition = { [leaf.operator]: convert(field.kind, leaf.value) };
  const table = field.table || "request_response_rmt";
  const column = field.map ? { [leaf.key.trim()]: condition } : condition;
  return { [table]: { [field.id]: column } };
}

// A list nests to the right, as Helicone's filterListToTree does.
export function nest(nodes, operator) {
  if (!nodes.length) return "all";
  if (nodes.length === 1) return nodes[0];
  return { left: nodes[0], operator, right: nest(nodes.slice(1), operator) };
}

export function toTree(group, fields = REQUEST_FIELDS) {
  const nodes = [];
  for (const item of group.items) {
    const node = item.type === "group" ? toTree(item, fields) : leafNode(item, fields);
    if (node && node !== "all") nodes.push(node);
  }
  return nest(nodes, group.op);
}

export function and(a, b) {
  if (a === "all") return b;
  if (b === "all") return a;
  return { left: a, operator: "and", right: b };
}

export function countConditions(group) {
  return group.items.reduce((n, item) => n + (item.type === "group" ? countConditions(item) : 1), 0);
}

function valueInput(leaf, field, onInput) {
  const label = `Value for ${field.label}`;
  if (field.kind === "bool") {
    return h(
      "select",
      { "aria-label": label, class: "f-value", onchange: (e) => onInput(e.target.value) },
      h("option", { value: "" }, "choose…"),
      h("option", { value: "true", selected: leaf.value === "true" }, "true"),
      h("option", { value: "false", selected: leaf.value === "false" }, "false"),
    );
  }
  const type = field.kind === "number" ? "number" : field.kind === "time" ? "datetime-local" : "text";
  return h("input", {
    type,
    step: field.kind === "number" ? "any" : undefined,
    value: leaf.value,
    "aria-label": label,
    class: "f-value",
    placeholder: field.kind === "vector" ? "words to find" : "value",
    oninput: (e) => onInput(e.target.value),
  });
}

// Renders the editable tree; `onChange` fires on every structural edit and value input.
export function renderFilterBuilder(container, state, { fields = REQUEST_FIELDS, keyHints = {}, onChange }) {
  const lists = {};
  for (const [mapId, values] of Object.entries(keyHints)) {
    const id = uid("keys");
    lists[mapId] = id;
    container.append(
      h(
        "datalist",
        { id },
        [...values].map((v) => h("option", { value: v })),
      ),
    );
  }

  function conditionRow(leaf, parent, depth) {
    const field = fields.find((f) => f.id === leaf.field) || fields[0];
    const row = h("div", { class: "f-row", role: "group", "aria-label": "Condition" });
    const rerender = () => {
      const next = conditionRow(leaf, parent, depth);
      row.replaceWith(next);
      next.querySelector(".f-field").focus();
      onChange();
    };
    const fieldSelect = h(
      "select",
      {
        "aria-label": "Field",
        class: "f-field",
        onchange: (e) => {
          const next = fields.find((f) => f.id === e.target.value);
          leaf.field = next.id;
          leaf.operator = OPERATORS[next.kind][0][0];
          leaf.value = "";
          rerender();
        },
      },
      fields.map((f) => h("option", { value: f.id, selected: f.id === field.id }, f.label)),
    );
    row.append(fieldSelect);
    if (field.map) {
      row.append(
        h("input", {
          type: "text",
          class: "f-key",
          value: leaf.key,
          list: lists[field.id],
          placeholder: field.id === "scores" ? "score name" : "property name",
          "aria-label": field.id === "scores" ? "Score name" : "Property name",
          oninput: (e) => {
            leaf.key = e.target.value;
            onChange();
          },
        }),
      );
    }
    row.append(
      h(
        "select",
        {
          "aria-label": "Operator",
          class: "f-op",
          onchange: (e) => {
            leaf.operator = e.target.value;
            onChange();
          },
        },
        OPERATORS[field.kind].map(([op, text]) => h("option", { value: op, selected: op === leaf.operator }, text)),
      ),
      valueInput(leaf, field, (v) => {
        leaf.value = v;
        onChange();
      }),
      h(
        "button",
        {
          type: "button",
          class: "icon ghost",
          "aria-label": "Remove condition",
          title: "Remove condition",
          onclick: () => {
            parent.items.splice(parent.items.indexOf(leaf), 1);
            redraw();
          },
        },
        "✕",
      ),
    );
    return row;
  }

  function groupBox(group, parent, depth) {
    const box = h("div", {
      class: `f-group depth-${depth % 2}`,
      role: "group",
      "aria-label": depth ? "Condition group" : "Filters",
    });
    const head = h(
      "div",
      { class: "f-group-head" },
      h("span", { class: "muted" }, "Match"),
      h(
        "select",
        {
          "aria-label": "Combine conditions with",
          class: "f-combine",
          onchange: (e) => {
            group.op = e.target.value;
            onChange();
          },
        },
        h("option", { value: "and", selected: group.op === "and" }, "all (and)"),
        h("option", { value: "or", selected: group.op === "or" }, "any (or)"),
      ),
      h("span", { class: "muted" }, "of these conditions"),
    );
    if (parent) {
      head.append(
        h(
          "button",
          {
            type: "button",
            class: "ghost small",
            onclick: () => {
              parent.items.splice(parent.items.indexOf(group), 1);
              redraw();
            },
          },
          "Remove group",
        ),
      );
    }
    box.append(head);
    for (const item of group.items) {
      box.append(item.type === "group" ? groupBox(item, group, depth + 1) : conditionRow(item, group, depth));
    }
    box.append(
      h(
        "div",
        { class: "f-actions" },
        h(
          "button",
          {
            type: "button",
            class: "ghost small",
            onclick: () => {
              group.items.push(newCondition(fields));
              redraw(true);
            },
          },
          "+ Condition",
        ),
        depth < 3
          ? h(
              "button",
              {
                type: "button",
                class: "ghost small",
                onclick: () => {
                  const sub = emptyGroup(group.op === "and" ? "or" : "and");
                  sub.items.push(newCondition(fields));
                  group.items.push(sub);
                  redraw(true);
                },
              },
              "+ Group",
            )
          : null,
      ),
    );
    return box;
  }

  let root = null;
  function redraw(focusLast = false) {
    const next = groupBox(state, null, 0);
    if (root) root.replaceWith(next);
    else container.append(next);
    root = next;
    if (focusLast) {
      const all = root.querySelectorAll(".f-field");
      all[all.length - 1]?.focus();
    }
    onChange();
  }
  redraw();
}
