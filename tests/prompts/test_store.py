"""``store.prompts`` on both engines: numbering, production, environments, the call cache."""

from __future__ import annotations

import asyncio

import pytest

from helioscope.errors import BadRequest, NotFound
from helioscope.store import Store, keys
from helioscope.store.prompts import legacy_prompts, legacy_versions, prompts_2025, versions_2025


def _template(text: str) -> dict[str, object]:
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]}


async def test_legacy_numbering_production_and_deletion(store: Store) -> None:
    org = (await store.write(keys.get_or_create_org, "acme")).id
    prompt, first = await store.prompts.org(org).write(
        legacy_prompts.create_prompt, "greeter", _template("a"), {}
    )
    assert (first.major_version, first.minor_version, first.is_production) == (0, 0, True)
    minor = await store.prompts.org(org).write(
        legacy_versions.create_subversion, first.id, _template("b")
    )
    minor2 = await store.prompts.org(org).write(
        legacy_versions.create_subversion, first.id, _template("c")
    )
    major = await store.prompts.org(org).write(
        legacy_versions.create_subversion, minor.id, _template("d"), is_major=True
    )
    assert [(v.major_version, v.minor_version) for v in (minor, minor2, major)] == [
        (0, 1),
        (0, 2),
        (1, 0),
    ]
    fetched = await store.prompts.org(org).read(legacy_prompts.get_version, major.id)
    assert fetched is not None and fetched.prompt_id == prompt.id
    assert fetched.helicone_template == _template("d") and fetched.model == "gpt-4o-mini"
    with pytest.raises(BadRequest, match="production version and cannot be deleted"):
        await store.prompts.org(org).write(legacy_versions.delete_version, first.id)
    await store.prompts.org(org).write(legacy_versions.promote, major.id)
    versions = await store.prompts.org(org).read(legacy_versions.query_versions, prompt.id)
    assert [v.id for v in versions if v.is_production] == [major.id]
    await store.prompts.org(org).write(legacy_versions.delete_version, first.id)
    assert await store.prompts.org(org).read(legacy_prompts.get_version, first.id) is None
    other = (await store.write(keys.get_or_create_org, "other")).id
    assert (
        await store.prompts.org(other).read(legacy_prompts.get_version, major.id) is None
    )  # scoped to the organization
    with pytest.raises(NotFound):
        await store.prompts.org(other).write(legacy_versions.delete_version, minor.id)


async def test_a_call_template_is_recorded_once_and_a_change_bumps_the_major(store: Store) -> None:
    org = (await store.write(keys.get_or_create_org, "acme")).id
    v0 = await store.prompts.record_call_template(org, "story", _template("x"))
    misses = store.prompts.recorded.misses
    again = await store.prompts.record_call_template(org, "story", _template("x"))
    assert again.id == v0.id and store.prompts.recorded.misses == misses  # served from memory
    v1 = await store.prompts.record_call_template(org, "story", _template("y"))
    assert (v1.major_version, v1.minor_version) == (1, 0)
    assert v1.is_production
    old = await store.prompts.org(org).read(legacy_prompts.get_version, v0.id)
    assert old is not None and not old.is_production
    store.prompts.recorded.clear()  # as after a restart: found in the store, not re-created
    assert (await store.prompts.record_call_template(org, "story", _template("y"))).id == v1.id


async def test_2025_versions_and_environments(store: Store) -> None:
    org = (await store.write(keys.get_or_create_org, "acme")).id
    prompt, first = await store.prompts.org(org).write(
        prompts_2025.create_prompt, "Support", ["a"], _template("1")
    )
    assert len(prompt.id) == 6 and prompt.production_version == first.id
    assert (first.major_version, first.minor_version, first.environments) == (0, 0, ["production"])
    minor = await store.prompts.org(org).write(
        versions_2025.new_version,
        prompt.id,
        first.id,
        new_major=False,
        commit_message="m",
        body=_template("2"),
    )
    major = await store.prompts.org(org).write(
        versions_2025.new_version,
        prompt.id,
        minor.id,
        new_major=True,
        commit_message="M",
        body=_template("3"),
        environment="staging",
    )
    assert [(v.major_version, v.minor_version) for v in (minor, major)] == [(0, 1), (1, 0)]
    assert (await store.prompts.select_version(org, prompt.id)).id == first.id
    staging = await store.prompts.select_version(org, prompt.id, environment="staging")
    assert staging.id == major.id
    await store.prompts.org(org).write(
        versions_2025.set_environment, prompt.id, minor.id, "production"
    )
    # The change cleared the cache: the next call sees the new production version.
    assert (await store.prompts.select_version(org, prompt.id)).id == minor.id
    assert (
        await store.prompts.org(org).read(prompts_2025.get_prompt, prompt.id)
    ).production_version == minor.id
    with pytest.raises(BadRequest, match="production version"):
        await store.prompts.org(org).write(versions_2025.delete_version, prompt.id, minor.id)
    await store.prompts.org(org).write(versions_2025.delete_version, prompt.id, first.id)
    assert await store.prompts.org(org).read(prompts_2025.all_environments) == [
        "production",
        "staging",
    ]
    with pytest.raises(NotFound):
        await store.prompts.select_version(org, prompt.id, environment="nope")


async def test_racing_first_calls_make_one_prompt(store: Store) -> None:
    org = (await store.write(keys.get_or_create_org, "acme")).id
    versions = await asyncio.gather(
        *(store.prompts.record_call_template(org, "hot", _template("x")) for _ in range(5))
    )
    assert len({v.id for v in versions}) == 1
    assert len(await store.prompts.org(org).read(legacy_prompts.query_prompts, "all")) == 1


async def test_a_prompt_made_through_the_api_is_not_rewritten_by_calls(store: Store) -> None:
    org = (await store.write(keys.get_or_create_org, "acme")).id
    _, v0 = await store.prompts.org(org).write(
        legacy_prompts.create_prompt, "ui", _template("a"), {"createdFromUi": True}
    )
    used = await store.prompts.record_call_template(org, "ui", _template("something else"))
    assert used.id == v0.id
    with pytest.raises(BadRequest, match="already exists"):
        await store.prompts.org(org).write(legacy_prompts.create_prompt, "ui", _template("b"), {})
