"""The six route families of Helicone's document are all served, each with its declared need."""

from __future__ import annotations

from helioscope import Settings, create_app
from helioscope.api import Need
from helioscope.api.access import SCOPE_EXTENSION
from tests.api.inprocess import operations

# Helicone's docs/swagger.json (7ad0357): every operation of these tags, and the need here.
FAMILIES: dict[tuple[str, str], Need] = {
    ("POST", "/v1/customer/query"): Need.READ,
    ("POST", "/v1/customer/{customerId}/usage/query"): Need.READ,
    ("POST", "/v1/integration"): Need.ALL,
    ("GET", "/v1/integration"): Need.ALL,
    ("POST", "/v1/integration/{integrationId}"): Need.ALL,
    ("GET", "/v1/integration/{integrationId}"): Need.ALL,
    ("GET", "/v1/integration/type/{type}"): Need.ALL,
    ("GET", "/v1/integration/slack/settings"): Need.ALL,
    ("GET", "/v1/integration/slack/channels"): Need.READ,
    ("GET", "/v1/public/status/provider"): Need.READ,
    ("GET", "/v1/public/status/provider/{provider}"): Need.READ,
    ("POST", "/v1/public/security"): Need.KEY,
    ("POST", "/v1/public/compare/models"): Need.READ,
    **{
        ("POST", f"/v1/public/dataisbeautiful/{route}"): Need.READ
        for route in (
            "total-values",
            "model/usage/overtime",
            "provider/usage/overtime",
            "total-requests",
            "ttft-vs-prompt-length",
            "model/percentage",
            "model/cost",
            "provider/percentage",
            "model/percentage/overtime",
        )
    },
}


def test_every_operation_of_the_families_is_served_with_its_need() -> None:
    app = create_app(Settings(database_url="sqlite:///:memory:"))
    served = {(method, path): op[SCOPE_EXTENSION] for method, path, op in operations(app)}
    assert len(FAMILIES) == 22
    missing = [f"{m} {p}" for m, p in FAMILIES if (m, p) not in served]
    assert not missing, missing
    assert {key: served[key] for key in FAMILIES} == {k: v.value for k, v in FAMILIES.items()}
