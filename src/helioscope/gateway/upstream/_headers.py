"""The headers of an upstream request, typed by where they came from.

A client's header is forwarded as the server's HTTP parser read it, in bytes: written into the
upstream request as it is, neither decoded nor checked again. Every other header (a
``Helicone-Fallbacks`` entry's, a stored provider key, the AI Gateway's own) is text, checked
for line breaks and encoded when the request's head is written. The type says which is which,
so the check is made where it is needed and nowhere else.
"""

from __future__ import annotations

from typing import NewType

# Never sent as given: the client frames the request itself, and connection-level headers
# (a client's, or a fallback option's) would change what the connection is.
FRAMING = frozenset(
    {
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "upgrade",
    }
)

ParsedHeader = NewType("ParsedHeader", tuple[bytes, bytes])
"""A header of the client's request, as the server's parser read it and ``read_headers`` kept it.

Safe to write into a request head as it is: the parser refused CR, LF and NUL in names and
values (llhttp does, and RFC 9112 section 5.5 lets a server do no less), the name is
lower-case (uvicorn lower-cases it), and ``read_headers``, the one place that makes these,
drops the ``FRAMING`` ones.
"""

Header = ParsedHeader | tuple[str, str]
"""A header of an upstream request: the client's, parsed; or text, checked when it is sent."""


def header_name(header: Header) -> str:
    """The header's name, lower-case."""
    name = header[0]
    return name.decode("latin-1") if isinstance(name, bytes) else name.lower()


def text_header(header: Header) -> tuple[str, str]:
    """The header as text (for an HTTP client that takes text: aiohttp's, for moderation)."""
    if isinstance(header[0], bytes):
        return header[0].decode("latin-1"), header[1].decode("latin-1")
    return header
