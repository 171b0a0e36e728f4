"""A lean HTTP/1.1 client for the gateway's upstream calls (asyncio protocols + httptools)."""

from helioscope.gateway.upstream._client import UpstreamClient, UpstreamResponse
from helioscope.gateway.upstream._connection import UpstreamError

__all__ = ["UpstreamClient", "UpstreamError", "UpstreamResponse"]
