"""Schemathesis over the whole ``/openapi.json``: no generated request may get a 500.

Bounded so that it runs in the suite: a fixed seed, a few cases per operation,
in process (no socket). Each operation gets cases with random path parameters and cases aimed at
real objects (the ids of a seeded organization), so that bodies reach the code behind the 404s.
Hypothesis draws integers of any size and strings of any code point, which is what found the
500s of issue 16 (numbers past 64 bits, poisoned prompt templates).
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import seed as fixed_seed
from hypothesis import settings as hypothesis_settings
from pydantic import SecretStr
from schemathesis.core.result import Err
from schemathesis.generation.case import Case

from helioscope import Settings
from tests.api.inprocess import InProcess
from tests.api.org_seed import seed

CASES_PER_OPERATION = 2
SEED = 16  # the number: the same cases on every run


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"secret_key": SecretStr("schemathesis-" + "s" * 32)})


def _cases(operation: Any, path_parameters: dict[str, str] | None) -> list[Case[Any]]:
    """A fixed list of generated cases for ``operation`` (the same on every run)."""
    found: list[Case[Any]] = []

    @hypothesis_settings(
        max_examples=CASES_PER_OPERATION,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @fixed_seed(SEED)
    @given(operation.as_strategy(path_parameters=path_parameters))
    def collect(case: Case[Any]) -> None:
        found.append(case)

    collect()
    return found


async def test_no_generated_request_gets_a_500(api: InProcess) -> None:
    org = await api.add_org("fuzzed")
    ids = await seed(api, org)
    document = (await api.http.get("/openapi.json")).json()
    schema = schemathesis.openapi.from_dict(document)
    failures: list[str] = []
    total = 0
    for result in schema.get_all_operations():
        if isinstance(result, Err):  # the document itself is wrong for this operation
            raise result.err()
        operation = result.ok()
        names = [p.name for p in operation.path_parameters]
        aimed = {name: ids[name] for name in names if name in ids}
        cases = _cases(operation, None)
        if aimed and len(aimed) == len(names):
            cases += _cases(operation, aimed)
        for case in cases:
            total += 1
            kwargs = case.as_transport_kwargs(base_url="http://hs")
            kwargs["headers"]["authorization"] = f"Bearer {org.keys['rw']}"
            kwargs.pop("cookies", None)
            if "data" in kwargs:  # raw text or bytes (httpx calls that content)
                kwargs["content"] = kwargs.pop("data")
            sent = f"{operation.label}: {kwargs.get('url')} {kwargs.get('json')!r:.300}"
            try:  # the in-process transport raises what the app raised: a 500 on a socket
                response = await api.http.request(**kwargs)
            except Exception as exc:
                failures.append(f"{sent} -> {type(exc).__name__}: {str(exc)[:300]}")
                continue
            if response.status_code >= 500:
                failures.append(f"{sent} -> {response.status_code} {response.text[:200]}")
    print(f"schemathesis: {total} cases")
    assert not failures, "\n".join(failures)
