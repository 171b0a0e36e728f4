// The Users page: per-user metrics from POST /v1/user/metrics/query, searched, sorted, paged.
import { post } from "./api.js";
import { currentKey } from "./auth.js";
import { clear, h } from "./dom.js";
import { num, time, usd } from "./format.js";
import { RANGES } from "./dashboard.js";
import { dataTable, pager } from "./table.js";

const states = new Map();

const COLUMNS = [
  { id: "user", title: "User", sort: "user_id", cell: (u) => u.user_id },
  { id: "requests", title: "Requests", sort: "total_requests", num: true, cell: (u) => num(u.total_requests) },
  { id: "cost", title: "Cost", sort: "cost", num: true, cell: (u) => usd(u.cost) },
  { id: "prompt", title: "Prompt tokens", sort: "total_prompt_tokens", num: true, cell: (u) => num(u.total_prompt_tokens) },
  { id: "completion", title: "Completion tokens", sort: "total_completion_tokens", num: true, cell: (u) => num(u.total_completion_tokens) },
  { id: "avg_tokens", title: "Tokens / request", sort: "average_tokens_per_request", num: true, cell: (u) => num(Math.round(u.average_tokens_per_request)) },
  { id: "per_day", title: "Requests / active day", sort: "average_requests_per_day_active", num: true, cell: (u) => num(Math.round(u.average_requests_per_day_active * 10) / 10) },
  { id: "active_for", title: "Active days", sort: "active_for", num: true, cell: (u) => num(u.active_for) },
  { id: "first", title: "First active", sort: "first_active", cell: (u) => time(u.first_active) },
  { id: "last", title: "Last active", sort: "last_active", cell: (u) => time(u.last_active) },
  { id: "limited", title: "Rate limited", sort: "rate_limited_count", num: true, cell: (u) => num(u.rate_limited_count) },
];

export async function renderUsers(main) {
  const key = currentKey().key;
  if (!states.has(key)) states.set(key, { search: "", range: "30d", offset: 0, limit: 50, sort: { total_requests: "desc" } });
  const state = states.get(key);
  const results = h("div", { class: "results", id: "users-results", "aria-busy": "true" });
  const search = h("input", { type: "search", id: "user-search", value: state.search, placeholder: "user id contains" });
  const range = h("select", { id: "user-range" }, [["all", "All time"], ...RANGES.map(([id, label]) => [id, label])].map(([v, label]) => h("option", { value: v, selected: v === state.range }, label)));

  async function load() {
    results.setAttribute("aria-busy", "true");
    const span = RANGES.find(([id]) => id === state.range)?.[2];
    const now = Date.now() / 1000;
    const body = {
      filter: state.search ? { request_response_rmt: { user_id: { contains: state.search } } } : "all",
      offset: state.offset,
      limit: state.limit,
      sort: state.sort,
      timeZoneDifferenceMinutes: 0,
      ...(span ? { timeFilter: { startTimeUnixSeconds: now - span / 1000, endTimeUnixSeconds: now } } : {}),
    };
    try {
      const data = await post("/v1/user/metrics/query", body);
      clear(results);
      if (!data.users.length) {
        results.append(h("p", { class: "empty" }, data.hasUsers ? "No user matches." : "No users yet. Send a Helicone-User-Id header (or the OpenAI `user` field) to see users here."));
      } else {
        results.append(
          dataTable({
            caption: "Users",
            columns: COLUMNS,
            rows: data.users,
            sort: state.sort,
            onSort: (k, dir) => {
              state.sort = { [k]: dir };
              state.offset = 0;
              load();
            },
            onOpen: (u) => {
              location.hash = `#/requests?user=${encodeURIComponent(u.user_id)}`;
            },
            rowLabel: (u) => `User ${u.user_id}: ${u.total_requests} requests; open their requests`,
          }),
        );
      }
      results.append(
        pager({
          offset: state.offset,
          limit: state.limit,
          shown: data.users.length,
          total: data.count,
          onPage: (o) => {
            state.offset = o;
            load();
          },
          onLimit: (l) => {
            state.limit = l;
            state.offset = 0;
            load();
          },
        }),
      );
    } catch (err) {
      clear(results).append(h("p", { class: "form-error", role: "alert" }, err.message));
    } finally {
      results.setAttribute("aria-busy", "false");
    }
  }

  main.append(
    h("div", { class: "page-head" }, h("h1", {}, "Users")),
    h(
      "form",
      {
        class: "card row search-bar",
        role: "search",
        onsubmit: (e) => {
          e.preventDefault();
          state.search = search.value.trim();
          state.range = range.value;
          state.offset = 0;
          load();
        },
      },
      h("label", { for: "user-search" }, "Search users"),
      search,
      h("label", { for: "user-range" }, "Time range"),
      range,
      h("button", { type: "submit", class: "primary" }, "Search"),
    ),
    results,
  );
  await load();
}
