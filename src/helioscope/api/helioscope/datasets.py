"""``/v1/helioscope/datasets``: a dataset's rows with their bodies inline, for the UI.

Helicone's ``POST /v1/helicone-dataset/{datasetId}/query`` answers rows whose bodies sit behind
``signed_url``; the UI shows a preview of each body, so it asks here for them in the same call.
"""

from __future__ import annotations

from fastapi import APIRouter

from helioscope.api.dataset.helicone_dataset import DatasetRowWithBodies, RowsQuery, dataset_rows
from helioscope.api.deps import ApiKeyDep, StoreDep
from helioscope.api.envelope import ERROR_RESPONSES, Result

reads = APIRouter(
    prefix="/v1/helioscope/datasets", tags=["Helioscope UI"], responses=ERROR_RESPONSES
)


@reads.post("/{datasetId}/rows", response_model=Result[list[DatasetRowWithBodies]])
async def query_rows(
    datasetId: str, body: RowsQuery, key: ApiKeyDep, store: StoreDep
) -> Result[list[DatasetRowWithBodies]]:
    """A page of a dataset's rows, each with its request and response bodies."""
    return Result(data=await dataset_rows(datasetId, body, key.organization_id, store))
