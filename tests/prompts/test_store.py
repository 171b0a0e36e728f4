"""``store.prompts`` on both engines: numbering, production, environments, the call cache."""

from __future__ import annotations

import asyncio

import pytest

from helioscope.errors import BadRequest, NotFound
from helioscope.store import Store


def _template(text: str) -> dict[str, object]:
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]}


async def test_legacy_numbering_production_and_deletion(store: Store) -> None:
    org = (await store.get_or_create_org("acme")).id
    prompts = store.prompts
    prompt, first = await prompts.create_prompt(org, "greeter", _template("a"), {})
    assert (first.major_version, first.minor_version, first.is_production) == (0, 0, True)
    minor = await prompts.create_subversion(org, first.id, _template("b"))
    minor2 = await prompts.create_subversion(org, first.id, _template("c"))
    major = await prompts.create_subversion(org, minor.id, _template("d"), is_major=True)
    assert [(v.major_version, v.minor_version) for v in (minor, minor2, major)] == [
        (0, 1),
        (0, 2),
        (1, 0),
    ]
    fetched = await prompts.get_version(org, major.id)
    assert fetched is not None and fetched.prompt_id == prompt.id
    assert fetched.helicone_template == _template("d") and fetched.model == "gpt-4o-mini"
    with pytest.raises(BadRequest, match="production version and cannot be deleted"):
        await prompts.delete_version(org, first.id)
    await prompts.promote(org, major.id)
    versions = await prompts.query_versions(org, prompt.id)
    assert [v.id for v in versions if v.is_production] == [major.id]
    await prompts.delete_version(org, first.id)
    assert await prompts.get_version(org, first.id) is None
    other = (await store.get_or_create_org("other")).id
    assert await prompts.get_version(other, major.id) is None  # scoped to the organization
    with pytest.raises(NotFound):
        await prompts.delete_version(other, minor.id)


async def test_a_call_template_is_recorded_once_and_a_change_bumps_the_major(store: Store) -> None:
    org = (await store.get_or_create_org("acme")).id
    prompts = store.prompts
    v0 = await prompts.record_call_template(org, "story", _template("x"))
    misses = prompts.recorded.misses
    again = await prompts.record_call_template(org, "story", _template("x"))
    assert again.id == v0.id and prompts.recorded.misses == misses  # served from memory
    v1 = await prompts.record_call_template(org, "story", _template("y"))
    assert (v1.major_version, v1.minor_version) == (1, 0)
    assert v1.is_production
    old = await prompts.get_version(org, v0.id)
    assert old is not None and not old.is_production
    prompts.recorded.clear()  # as after a restart: the stored version is found, not re-created
    assert (await prompts.record_call_template(org, "story", _template("y"))).id == v1.id


async def test_2025_versions_and_environments(store: Store) -> None:
    org = (await store.get_or_create_org("acme")).id
    prompts = store.prompts
    prompt, first = await prompts.create_prompt_2025(org, "Support", ["a"], _template("1"))
    assert len(prompt.id) == 6 and prompt.production_version == first.id
    assert (first.major_version, first.minor_version, first.environments) == (0, 0, ["production"])
    minor = await prompts.new_version_2025(
        org, prompt.id, first.id, new_major=False, commit_message="m", body=_template("2")
    )
    major = await prompts.new_version_2025(
        org,
        prompt.id,
        minor.id,
        new_major=True,
        commit_message="M",
        body=_template("3"),
        environment="staging",
    )
    assert [(v.major_version, v.minor_version) for v in (minor, major)] == [(0, 1), (1, 0)]
    assert (await prompts.select_version_2025(org, prompt.id)).id == first.id
    staging = await prompts.select_version_2025(org, prompt.id, environment="staging")
    assert staging.id == major.id
    await prompts.set_environment_2025(org, prompt.id, minor.id, "production")
    # The change cleared the cache: the next call sees the new production version.
    assert (await prompts.select_version_2025(org, prompt.id)).id == minor.id
    assert (await prompts.get_prompt_2025(org, prompt.id)).production_version == minor.id
    with pytest.raises(BadRequest, match="production version"):
        await prompts.delete_version_2025(org, prompt.id, minor.id)
    await prompts.delete_version_2025(org, prompt.id, first.id)
    assert await prompts.environments_2025(org) == ["production", "staging"]
    with pytest.raises(NotFound):
        await prompts.select_version_2025(org, prompt.id, environment="nope")


async def test_racing_first_calls_make_one_prompt(store: Store) -> None:
    org = (await store.get_or_create_org("acme")).id
    versions = await asyncio.gather(
        *(store.prompts.record_call_template(org, "hot", _template("x")) for _ in range(5))
    )
    assert len({v.id for v in versions}) == 1
    assert len(await store.prompts.query_prompts(org, "all")) == 1


async def test_a_prompt_made_through_the_api_is_not_rewritten_by_calls(store: Store) -> None:
    org = (await store.get_or_create_org("acme")).id
    prompts = store.prompts
    _, v0 = await prompts.create_prompt(org, "ui", _template("a"), {"createdFromUi": True})
    used = await prompts.record_call_template(org, "ui", _template("something else"))
    assert used.id == v0.id
    with pytest.raises(BadRequest, match="already exists"):
        await prompts.create_prompt(org, "ui", _template("b"), {})
