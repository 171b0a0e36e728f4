"""The one error hierarchy. Every error a client can cause is a ``HelioscopeError``.

::

    HelioscopeError (status, message)
    ├── BadRequest              400  malformed body, wrong type, unknown field
    │   └── InvalidFilter       400  a filter node that cannot be compiled; names its path
    ├── Unauthorized            401  missing, malformed or unknown Helicone key
    ├── Forbidden               403  a key whose scope does not allow the operation
    ├── NotFound                404  no such object in the caller's organization
    ├── PayloadTooLarge         413  a body over the configured limit
    ├── UpstreamUnavailable     502  the provider could not be reached
    └── ServiceUnavailable      503  a store Helioscope needs is down; retry later

A single exception handler (``helioscope.api.envelope``) renders each one as Helicone's envelope
``{"data": null, "error": "<message>"}`` with the status above.
"""

from __future__ import annotations


class HelioscopeError(Exception):
    """An error with an HTTP status and a message meant for the client."""

    status: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(HelioscopeError):
    """The request is malformed: the message says which field and why."""

    status = 400


class InvalidFilter(BadRequest):
    """A filter tree node that cannot be compiled; the message names the node's path."""


class Unauthorized(HelioscopeError):
    """The caller did not present a valid Helicone API key."""

    status = 401


class Forbidden(HelioscopeError):
    """The key is valid but its scope does not allow this operation."""

    status = 403


class NotFound(HelioscopeError):
    """The object does not exist in the caller's organization."""

    status = 404


class PayloadTooLarge(HelioscopeError):
    """The body is larger than the configured limit."""

    status = 413


class UpstreamUnavailable(HelioscopeError):
    """The upstream provider could not be reached."""

    status = 502


class ServiceUnavailable(HelioscopeError):
    """A store Helioscope needs to answer is unavailable; the client may retry."""

    status = 503
