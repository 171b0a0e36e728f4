// The Users page: per-user metrics from POST /v1/user/metrics/query, searched, sorted, paged;
// a user opens their requests.
import { post } from "./api.js";
import { decimal, num, time, usd } from "./format.js";
import { listPage } from "./listpage.js";
import { windowOf } from "./ranges.js";
import { hashOf } from "./url.js";

const COLUMNS = [
  { id: "user", title: "User", sort: "user_id", cell: (u) => u.user_id },
  { id: "requests", title: "Requests", sort: "total_requests", num: true, cell: (u) => num(u.total_requests) },
  { id: "cost", title: "Cost", sort: "cost", num: true, cell: (u) => usd(u.cost) },
  {
    id: "prompt",
    title: "Prompt tokens",
    sort: "total_prompt_tokens",
    num: true,
    cell: (u) => num(u.total_prompt_tokens),
  },
  {
    id: "completion",
    title: "Completion tokens",
    sort: "total_completion_tokens",
    num: true,
    cell: (u) => num(u.total_completion_tokens),
  },
  {
    id: "avg_tokens",
    title: "Tokens / request",
    sort: "average_tokens_per_request",
    num: true,
    cell: (u) => num(Math.round(u.average_tokens_per_request)),
  },
  {
    id: "per_day",
    title: "Requests / active day",
    sort: "average_requests_per_day_active",
    num: true,
    cell: (u) => decimal(u.average_requests_per_day_active),
  },
  { id: "active_for", title: "Active days", sort: "active_for", num: true, cell: (u) => num(u.active_for) },
  { id: "first", title: "First active", sort: "first_active", cell: (u) => time(u.first_active) },
  { id: "last", title: "Last active", sort: "last_active", cell: (u) => time(u.last_active) },
];

export async function renderUsers(main, { params }) {
  const page = listPage(main, params, {
    id: "user",
    title: "Users",
    searchLabel: "Search users",
    placeholder: "user id contains",
    columns: COLUMNS,
    defaultSort: { total_requests: "desc" },
    defaultRange: "30d",
    fetch: async (state) => {
      const { start, end } = windowOf(state.range);
      const data = await post("/v1/user/metrics/query", {
        filter: state.search ? { request_response_rmt: { user_id: { contains: state.search } } } : "all",
        offset: state.offset,
        limit: state.limit,
        sort: state.sort,
        timeZoneDifferenceMinutes: 0,
        ...(start
          ? { timeFilter: { startTimeUnixSeconds: start.getTime() / 1000, endTimeUnixSeconds: end.getTime() / 1000 } }
          : {}),
      });
      const empty = data.hasUsers
        ? "No user matches."
        : "No users yet. Send a Helicone-User-Id header (or the OpenAI `user` field) to see users here.";
      return { rows: data.users, total: data.count, empty };
    },
    onOpen: (u) => {
      location.hash = hashOf(["requests"], new URLSearchParams({ user: u.user_id }));
    },
    rowLabel: (u) => `User ${u.user_id}: ${u.total_requests} requests; open their requests`,
  });
  await page.load();
}
