"""The ``Settings`` tag: the organization's settings."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from helioscope.api.deps import ApiKeyDep
from helioscope.api.envelope import ERROR_RESPONSES

reads = APIRouter(prefix="/v1/settings", tags=["Settings"], responses=ERROR_RESPONSES)


class OrgSettings(BaseModel):
    """What Helicone's settings route answers."""

    useAzureForExperiment: bool = False


@reads.get("/query", response_model=OrgSettings)
async def get_settings(key: ApiKeyDep) -> OrgSettings:
    """The organization's settings (Helicone answers this object without an envelope)."""
    return OrgSettings()
