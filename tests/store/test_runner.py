"""The runner: a write is one transaction, the organization rule holds, and mypy refuses to run
an organization's function unscoped."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from helioscope.store import Db, OrgDb, Store, keys
from helioscope.store.tables.keys import api_key


async def _create_then_fail(db: Db, name: str) -> None:
    await keys.get_or_create_org(db, name)
    raise RuntimeError("after the insert")


async def test_a_write_is_all_or_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError, match="after the insert"):
        await store.write(_create_then_fail, "acme")
    assert await store.read(keys.count_orgs) == 0
    await store.write(keys.get_or_create_org, "acme")
    assert await store.read(keys.count_orgs) == 1


async def test_an_organization_sees_and_changes_only_its_own_rows(store: Store) -> None:
    a = await store.write(keys.get_or_create_org, "a")
    b = await store.write(keys.get_or_create_org, "b")
    a_key = await store.org(a.id).write(keys.create_api_key, "mine")
    await store.org(b.id).write(keys.create_api_key, "theirs")
    assert [k["api_key_name"] for k in await store.org(a.id).read(keys.list_api_keys)] == ["mine"]
    assert not await store.org(b.id).write(keys.rename_api_key, a_key.id, "stolen")
    assert not await store.org(b.id).write(keys.delete_api_key, a_key.id)
    found = await store.read(keys.find_api_key, keys.hash_api_key(a_key.key))
    assert found is not None and found.name == "mine"


async def test_an_organizations_function_cannot_run_unscoped(store: Store) -> None:
    # mypy runs strict with warn_unused_ignores: this line fails the type check unless passing
    # an OrgDb function to the unscoped runner is an error. At run time it has no organization.
    with pytest.raises(AttributeError, match="in_org"):
        await store.read(keys.list_api_keys)  # type: ignore[arg-type]


async def _every_read(db: OrgDb) -> tuple[object, ...]:
    mine = select(api_key.c.id, api_key.c.api_key_name).where(db.in_org(api_key))
    ordered = mine.order_by(api_key.c.id)
    return (
        await db.rows(ordered),
        await db.row(ordered),
        await db.row(mine.where(api_key.c.id < 0)),
        await db.tuples(ordered),
        await db.scalar(select(func.count()).select_from(api_key).where(db.in_org(api_key))),
        await db.scalar(mine.where(api_key.c.id < 0)),
        await db.scalars(select(api_key.c.api_key_name).where(db.in_org(api_key))),
    )


async def test_db_reads_the_same_on_both_engines(store: Store) -> None:
    org = await store.write(keys.get_or_create_org, "acme")
    new = await store.org(org.id).write(keys.create_api_key, "one")
    rows, first, none, tuples, count, no_scalar, names = await store.org(org.id).read(_every_read)
    assert rows == [{"id": new.id, "api_key_name": "one"}] and first == rows[0]
    assert none is None and no_scalar is None
    assert tuples == [(new.id, "one")] and count == 1 and names == ["one"]


async def test_a_failed_statement_names_its_sql_never_its_parameters(
    store: Store, engine_name: str
) -> None:
    # Parameters are bodies, key hashes, users' words: a refused statement's error (logged by
    # the writer, shown in /health/ready's last error) must not carry them.
    failing = (
        "SELECT 1 / (length(CAST(:v AS TEXT)) - 6)"  # division by zero: 's3cret' is 6 long
        if engine_name == "postgresql"
        else "SELECT json(:v)"  # malformed JSON
    )
    with pytest.raises(DBAPIError) as raised:
        async with store.engine.connect() as conn:
            await conn.execute(text(failing), {"v": "s3cret"})
    assert "[SQL: SELECT" in str(raised.value) and "s3cret" not in str(raised.value)
