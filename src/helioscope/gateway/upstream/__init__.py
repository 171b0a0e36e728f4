"""A lean HTTP/1.1 client for the gateway's upstream calls (asyncio protocols + httptools)."""

from helioscope.gateway.upstream._client import UpstreamClient, UpstreamResponse
from helioscope.gateway.upstream._connection import UpstreamError
from helioscope.gateway.upstream._headers import (
    FRAMING,
    Header,
    ParsedHeader,
    header_name,
    text_header,
)

__all__ = [
    "FRAMING",
    "Header",
    "ParsedHeader",
    "UpstreamClient",
    "UpstreamError",
    "UpstreamResponse",
    "header_name",
    "text_header",
]
