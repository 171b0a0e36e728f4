"""The ``Models`` tag: the models the AI Gateway routes, in Helicone's shape.

``GET /v1/models`` answers ``{"data": [{"model": …}], "error": null}`` (Helicone's
``Result<{model}[]>``); each entry also carries OpenAI's model fields (``id``, ``object``,
``created``, ``owned_by``), so OpenAI's SDK pointed at the gateway lists them too, and the
organization's own models (a provider key's ``config.models``). Any valid key may ask.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from helioscope.api.deps import ApiKeyDep
from helioscope.api.envelope import ERROR_RESPONSES, Result
from helioscope.api.vault import VaultDep
from helioscope.providers.models import REGISTRY

reads = APIRouter(prefix="/v1/models", tags=["Models"], responses=ERROR_RESPONSES)


class ModelEntry(BaseModel):
    """A routable model."""

    model: str
    id: str
    object: str = "model"
    created: int
    owned_by: str


@reads.get("", response_model=Result[list[ModelEntry]])
async def get_models(key: ApiKeyDep, vault: VaultDep) -> Result[list[ModelEntry]]:
    """The registry's models, then the organization's own (its keys' ``config.models``)."""
    entries = [
        ModelEntry(model=m.id, id=m.id, created=m.created, owned_by=m.author) for m in REGISTRY
    ]
    known = {e.id for e in entries}
    for row in await vault.stored(key.organization_id):
        created = int(row.created_at.timestamp()) if row.created_at else 0
        for name in (m.strip() for m in row.config.get("models", "").split(",")):
            if name and name not in known:
                known.add(name)
                entries.append(
                    ModelEntry(model=name, id=name, created=created, owned_by=row.provider_name)
                )
    return Result(data=entries)
