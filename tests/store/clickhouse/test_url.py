"""HELIOSCOPE_CLICKHOUSE_URL: the chdb and HTTP forms, and clear errors for anything else."""

from __future__ import annotations

import pytest

from helioscope.errors import BadRequest
from helioscope.store.clickhouse import ClickHouseUrl


@pytest.mark.parametrize(
    ("raw", "path", "database"),
    [
        ("chdb:///var/lib/helioscope/ch", "/var/lib/helioscope/ch", "helioscope"),
        ("chdb://data/ch", "data/ch", "helioscope"),
        ("chdb://:memory:", ":memory:", "helioscope"),
        ("chdb://", ":memory:", "helioscope"),
        ("chdb:///srv/ch?database=logs", "/srv/ch", "logs"),
    ],
)
def test_chdb_urls(raw: str, path: str, database: str) -> None:
    url = ClickHouseUrl.parse(raw)
    assert (url.kind, url.path, url.database) == ("chdb", path, database)


def test_http_urls() -> None:
    url = ClickHouseUrl.parse("http://writer:s%40cret@ch.internal:8124/helioscope")
    assert (url.kind, url.host, url.port, url.database) == (
        "http",
        "ch.internal",
        8124,
        "helioscope",
    )
    assert (url.username, url.password, url.secure) == ("writer", "s@cret", False)
    assert "s@cret" not in url.redacted() and "writer@ch.internal:8124" in url.redacted()
    cloud = ClickHouseUrl.parse("https://default:pw@abc.clickhouse.cloud")
    assert (cloud.port, cloud.secure, cloud.database, cloud.username) == (
        8443,
        True,
        "default",
        "default",
    )
    assert ClickHouseUrl.parse("http://localhost").port == 8123


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("clickhouse://host:9000/db", "must be chdb:///dir or http(s)://"),
        ("http:///db", "names no host"),
        ("http://host:99999/db", "bad port"),
        ("http://host:8123/my-db", "is not a database name"),
        ("chdb:///x?database=a;DROP", "is not a database name"),
        ("/var/lib/ch", "must be chdb:///dir or http(s)://"),
    ],
)
def test_bad_urls_name_the_setting(raw: str, message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        ClickHouseUrl.parse(raw)
    assert "HELIOSCOPE_CLICKHOUSE_URL" in caught.value.message
    assert message in caught.value.message
