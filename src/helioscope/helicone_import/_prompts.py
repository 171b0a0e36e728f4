"""Prompts, stored under their source ids (``store.prompts.imports``).

2025 prompts with their versions (bodies from their signed ``s3_url``), and legacy prompts with
their versions.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson

from helioscope.helicone_import._client import SourceError
from helioscope.helicone_import._context import Context
from helioscope.helicone_import._rows import parse_time
from helioscope.store import LegacyPrompt, Prompt2025, Prompt2025Version, PromptVersion
from helioscope.store.prompts import imports

PAGE_SIZE = 100


def _time(value: Any) -> dt.datetime:
    return parse_time(value) or dt.datetime.now(dt.UTC)


async def _prompts_2025(ctx: Context) -> list[dict[str, Any]]:
    prompts: list[dict[str, Any]] = []
    page = 0
    while True:
        found = await ctx.client.post(
            "/v1/prompt-2025/query",
            {"search": "", "tagsFilter": [], "page": page, "pageSize": PAGE_SIZE},
        )
        prompts += [p for p in found or [] if isinstance(p, dict) and p.get("id")]
        if not isinstance(found, list) or len(found) < PAGE_SIZE:
            return prompts
        page += 1


async def _version_2025(ctx: Context, prompt_id: str, item: dict[str, Any]) -> Any:
    url = item.get("s3_url")
    try:
        body = await ctx.client.document(str(url)) if url else None
    except SourceError as exc:
        body, reason = None, str(exc)
    else:
        reason = "no s3_url"
    if not isinstance(body, dict):
        ctx.tally.skipped.append(f"prompt {prompt_id} version {item.get('id')}: {reason}")
        return None
    return Prompt2025Version(
        id=str(item["id"]),
        prompt_id=prompt_id,
        organization_id=ctx.org_id,
        major_version=int(item.get("major_version") or 0),
        minor_version=int(item.get("minor_version") or 0),
        commit_message=str(item.get("commit_message") or ""),
        model=str(item.get("model") or body.get("model") or ""),
        environments=[str(e) for e in item.get("environments") or []],
        prompt_body=body,
        created_at=_time(item.get("created_at")),
    )


async def _import_2025(ctx: Context, item: dict[str, Any]) -> None:
    prompt_id = str(item["id"])
    listed = await ctx.client.post("/v1/prompt-2025/query/versions", {"promptId": prompt_id})
    items = [v for v in listed or [] if isinstance(v, dict) and v.get("id")]
    found = await ctx.each(items, lambda v: _version_2025(ctx, prompt_id, v))
    versions: list[Prompt2025Version] = [v for v in found if v is not None]
    production = next((v.id for v in versions if "production" in v.environments), None)
    prompt = Prompt2025(
        id=prompt_id,
        organization_id=ctx.org_id,
        name=str(item.get("name") or prompt_id),
        tags=[str(t) for t in item.get("tags") or []],
        production_version=production,
        created_at=_time(item.get("created_at")),
    )
    prompts = ctx.store.prompts.org(ctx.org_id)
    if await prompts.write(imports.put_prompt_2025, prompt, versions):
        ctx.tally.prompts += 1
        ctx.tally.prompt_versions += len(versions)
    else:
        ctx.tally.skipped.append(f"prompt {prompt_id}: its id belongs to another organization")


def _template(value: Any) -> Any:
    # PromptVersionResult carries the template as JSON text.
    if isinstance(value, str):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def _legacy_version(ctx: Context, prompt_id: str, item: dict[str, Any]) -> PromptVersion:
    created = _time(item.get("created_at"))
    return PromptVersion(
        id=str(item["id"]),
        prompt_id=prompt_id,
        organization_id=ctx.org_id,
        major_version=int(item.get("major_version") or 0),
        minor_version=int(item.get("minor_version") or 0),
        model=str(item.get("model") or ""),
        helicone_template=_template(item.get("helicone_template")),
        metadata=dict(item.get("metadata") or {}),
        created_at=created,
        updated_at=parse_time(item.get("updated_at")) or created,
        parent_prompt_version=item.get("parent_prompt_version"),
        experiment_id=item.get("experiment_id"),
    )


async def _import_legacy(ctx: Context, item: dict[str, Any]) -> None:
    prompt_id = str(item["id"])
    listed = await ctx.client.post(
        f"/v1/prompt/{prompt_id}/versions/query",
        {"filter": "all", "includeExperimentVersions": True},
    )
    versions = [
        _legacy_version(ctx, prompt_id, v)
        for v in listed or []
        if isinstance(v, dict) and v.get("id")
    ]
    prompt = LegacyPrompt(
        id=prompt_id,
        organization_id=ctx.org_id,
        user_defined_id=str(item.get("user_defined_id") or prompt_id),
        description=item.get("description"),
        pretty_name=item.get("pretty_name"),
        metadata=dict(item.get("metadata") or {}),
        created_at=_time(item.get("created_at")),
    )
    prompts = ctx.store.prompts.org(ctx.org_id)
    if await prompts.write(imports.put_legacy_prompt, prompt, versions):
        ctx.tally.prompts += 1
        ctx.tally.prompt_versions += len(versions)
    else:
        ctx.tally.skipped.append(
            f"prompt {prompt.user_defined_id!r}: another prompt here has that id or name"
        )


async def import_prompts(ctx: Context) -> None:
    """Every 2025 and legacy prompt of the source, with every version."""
    current = await _prompts_2025(ctx)
    legacy = await ctx.client.post("/v1/prompt/query", {"filter": "all"})
    legacy_items = [p for p in legacy or [] if isinstance(p, dict) and p.get("id")]
    ctx.progress.phase("prompts", len(current) + len(legacy_items))
    for item in current:
        await _import_2025(ctx, item)
        ctx.progress.advance(1)
    for item in legacy_items:
        await _import_legacy(ctx, item)
        ctx.progress.advance(1)
