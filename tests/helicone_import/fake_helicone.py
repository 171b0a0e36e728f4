"""A small stand-in for Helicone's API: bodies behind signed URLs, and 429s now and then.

It keeps bodies apart, as Helicone does in S3: each request row carries a ``signed_body_url``
serving gzip-compressed ``{request, response}`` JSON that refuses any ``Authorization`` header
(S3 refuses a second credential). Every ``throttle_every``-th API call answers 429, with
``Retry-After`` in seconds, as an HTTP date, or missing, in turn.
"""

from __future__ import annotations

import email.utils
import gzip
import time
import uuid
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

KEY = "sk-helicone-source-key"
PROMPT_ID = "pQ7x2a"
VERSION_ID = str(uuid.UUID(int=7))
DATASET_ID = str(uuid.UUID(int=9))


def iso(second: int) -> str:
    return f"2025-06-01T10:00:{second:02d}.000Z"


def helicone_request(index: int, second: int) -> dict[str, Any]:
    return {
        "request_id": str(uuid.UUID(int=1000 + index)),
        "request_created_at": iso(second),
        "response_created_at": iso(second),
        "response_status": 500 if index == 5 else 200,
        "provider": "OPENAI",
        "model": "gpt-4o-mini",
        "request_model": "gpt-4o-mini",
        "response_model": "gpt-4o-mini-2024-07-18",
        "request_path": "/v1/chat/completions",
        "target_url": "https://api.openai.com/v1/chat/completions",
        "request_user_id": f"user-{index % 3}",
        "properties": {"Helicone-Session-Id": "s-1", "Helicone-Session-Path": f"/step/{index}"},
        "request_properties": {},
        "delay_ms": 100 + index,
        "time_to_first_token": None,
        "prompt_tokens": 10,
        "completion_tokens": 4,
        "total_tokens": 14,
        "cost": 0.000021,
        "scores": {"quality": index} if index % 4 == 0 else {},
        "feedback_rating": True if index == 3 else None,
        "prompt_id": PROMPT_ID if index == 2 else None,
        "prompt_version": VERSION_ID if index == 2 else None,
        "request_body": "",  # Helicone's row holds at most a preview; the bodies are in S3
        "response_body": "",
    }


def bodies(index: int) -> dict[str, Any]:
    return {
        "request": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"q{index}"}]},
        "response": {"choices": [{"message": {"role": "assistant", "content": f"a{index}"}}]},
    }


def _window(node: Any, bounds: dict[str, str]) -> None:
    """Collect the ``request_created_at`` bounds of an AND-only filter tree."""
    if not isinstance(node, dict):
        return
    if "left" in node:
        _window(node["left"], bounds)
        _window(node["right"], bounds)
        return
    leaf = node.get("request_response_rmt", {}).get("request_created_at", {})
    for operator, value in leaf.items():
        bounds[operator] = max(bounds.get(operator, ""), value) if operator == "gte" else value


class FakeHelicone:
    """``app`` serves it; ``url`` must be set to where it listens before a call."""

    def __init__(self, requests: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
        self.rows = [row for row, _ in requests]
        self.documents = {row["request_id"]: doc for row, doc in requests}
        self.url = ""
        self.throttle_every = 3
        self.fail_from_query: int | None = None  # from this request query on: HTTP 500
        self.api_calls = 0
        self.throttled = 0
        self.queries: list[dict[str, Any]] = []
        self.signed_fetch_headers: list[str | None] = []
        self.app = Starlette(
            routes=[
                Route("/v1/request/query", self._query, methods=["POST"]),
                Route("/v1/request/count/query", self._count, methods=["POST"]),
                Route("/v1/request/query-ids", self._by_ids, methods=["POST"]),
                Route("/v1/session/query", self._sessions, methods=["POST"]),
                Route("/v1/prompt-2025/query", self._prompts, methods=["POST"]),
                Route("/v1/prompt-2025/query/versions", self._versions, methods=["POST"]),
                Route("/v1/prompt/query", self._legacy, methods=["POST"]),
                Route("/v1/helicone-dataset/query", self._datasets, methods=["POST"]),
                Route(f"/v1/helicone-dataset/{DATASET_ID}/query", self._rows, methods=["POST"]),
                Route("/s3/{name}", self._signed, methods=["GET"]),
            ]
        )

    def _throttle(self) -> Response | None:
        self.api_calls += 1
        if self.api_calls % self.throttle_every:
            return None
        self.throttled += 1
        kind = self.throttled % 3
        headers = {}
        if kind == 1:
            headers["retry-after"] = "0"
        elif kind == 2:
            headers["retry-after"] = email.utils.formatdate(time.time() - 5, usegmt=True)
        body = orjson.dumps({"data": None, "error": "rate limited"})
        return Response(body, 429, headers=headers, media_type="application/json")

    async def _api(self, request: Request) -> tuple[Any, Response | None]:
        if request.headers.get("authorization") != f"Bearer {KEY}":
            return None, _result(None, 401, "unauthorized")
        throttled = self._throttle()
        if throttled is not None:
            return None, throttled
        body = await request.body()
        return (orjson.loads(body) if body else {}), None

    def _signed_url(self, name: str) -> str:
        return f"{self.url}/s3/{name}?X-Amz-Expires=3600&X-Amz-Signature=abc123"

    def _shaped(self, row: dict[str, Any]) -> dict[str, Any]:
        return {**row, "signed_body_url": self._signed_url(row["request_id"])}

    def _matching(self, tree: Any) -> list[dict[str, Any]]:
        bounds: dict[str, str] = {}
        _window(tree, bounds)
        rows = sorted(self.rows, key=lambda r: r["request_created_at"])
        if "gte" in bounds:
            rows = [r for r in rows if r["request_created_at"] >= bounds["gte"]]
        if "lt" in bounds:
            rows = [r for r in rows if r["request_created_at"] < bounds["lt"]]
        return rows

    async def _query(self, request: Request) -> Response:
        body, refused = await self._api(request)
        if refused is not None:
            return refused
        self.queries.append(body)
        if self.fail_from_query is not None and len(self.queries) >= self.fail_from_query:
            return _result(None, 500, "internal error")
        rows = self._matching(body.get("filter"))
        page = rows[body.get("offset", 0) : body.get("offset", 0) + body.get("limit", 100)]
        return _result([self._shaped(r) for r in page])

    async def _count(self, request: Request) -> Response:
        body, refused = await self._api(request)
        return refused or _result(len(self._matching(body.get("filter"))))

    async def _by_ids(self, request: Request) -> Response:
        body, refused = await self._api(request)
        wanted = set(body.get("requestIds", [])) if refused is None else set()
        return refused or _result([self._shaped(r) for r in self.rows if r["request_id"] in wanted])

    async def _sessions(self, request: Request) -> Response:
        _, refused = await self._api(request)
        # Helicone's public API has no session tag route: the tag lookup will get a 404.
        return refused or _result([{"session_id": "s-1"}])

    async def _prompts(self, request: Request) -> Response:
        _, refused = await self._api(request)
        prompt = {"id": PROMPT_ID, "name": "greeter", "tags": ["demo"], "created_at": iso(0)}
        return refused or _result([prompt])

    async def _versions(self, request: Request) -> Response:
        _, refused = await self._api(request)
        version = {
            "id": VERSION_ID,
            "prompt_id": PROMPT_ID,
            "model": "gpt-4o-mini",
            "major_version": 1,
            "minor_version": 2,
            "commit_message": "Friendlier",
            "environments": ["production"],
            "created_at": iso(1),
            "s3_url": self._signed_url("prompt-" + VERSION_ID),
        }
        return refused or _result([version])

    async def _legacy(self, request: Request) -> Response:
        _, refused = await self._api(request)
        return refused or _result([])

    async def _datasets(self, request: Request) -> Response:
        _, refused = await self._api(request)
        dataset = {
            "id": DATASET_ID,
            "name": "golden",
            "dataset_type": "helicone",
            "meta": None,
            "created_at": iso(2),
            "organization": "org",
            "requests_count": 2,
        }
        return refused or _result([dataset])

    async def _rows(self, request: Request) -> Response:
        _, refused = await self._api(request)
        # Row 1 is a request before the import's window; row 4 was edited.
        first, edited = self.rows[1]["request_id"], self.rows[4]["request_id"]
        rows = [
            {"id": str(uuid.UUID(int=51)), "origin_request_id": first, "dataset_id": DATASET_ID,
             "created_at": iso(3), "signed_url": {"data": self._signed_url(first)}},
            {"id": str(uuid.UUID(int=52)), "origin_request_id": edited, "dataset_id": DATASET_ID,
             "created_at": iso(3), "signed_url": {"data": self._signed_url("edited")}},
        ]  # fmt: skip
        return refused or _result(rows)

    async def _signed(self, request: Request) -> Response:
        self.signed_fetch_headers.append(request.headers.get("authorization"))
        if request.headers.get("authorization") or "X-Amz-Signature" not in request.url.query:
            return Response(b"<Error>InvalidArgument</Error>", 400)
        name = request.path_params["name"]
        if name == "edited":
            document: Any = {"request": {"edited": True}, "response": {"answer": "better"}}
        elif name.startswith("prompt-"):
            document = {"model": "gpt-4o-mini", "messages": [{"role": "system", "content": "Hi"}]}
        else:
            document = self.documents[name]
        return Response(gzip.compress(orjson.dumps(document)), media_type="binary/octet-stream")


def _result(data: Any, status: int = 200, error: str | None = None) -> Response:
    body = orjson.dumps({"data": data, "error": error})
    return Response(body, status, media_type="application/json")
