"""One exception tree for the whole project, rooted at :class:`ShipyardError`.

Every error also inherits the matching builtin, so ``except LookupError`` keeps working, and
carries an HTTP status and a stable ``code`` so the server maps it to a response in one handler
and the HTTP client raises the very same class again on the other side.
"""

from __future__ import annotations

from typing import ClassVar


class ShipyardError(Exception):
    """Base of every error Shipyard raises on purpose."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "INTERNAL_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidArgument(ShipyardError, ValueError):
    """A value given by the caller is malformed, out of range or of the wrong type."""

    status = 400
    code = "INVALID_ARGUMENT"


class FilterSyntaxError(InvalidArgument):
    """A ``search_runs`` filter string does not parse; ``position`` is the 0-based offset."""

    code = "FILTER_SYNTAX_ERROR"

    def __init__(self, message: str, *, text: str = "", position: int = 0) -> None:
        self.text = text
        self.position = position
        if text:
            message = f"{message} at position {position}:\n  {text}\n  {' ' * position}^"
        super().__init__(message)


class PayloadTooLarge(InvalidArgument):
    """A request body or batch is larger than the server accepts; split it."""

    status = 413
    code = "PAYLOAD_TOO_LARGE"


class NotFound(ShipyardError, LookupError):
    """The named run, experiment, model, version, alias or artifact does not exist."""

    status = 404
    code = "NOT_FOUND"


class AlreadyExists(ShipyardError, ValueError):
    """Creating something whose name is taken."""

    status = 409
    code = "ALREADY_EXISTS"


class Conflict(ShipyardError, RuntimeError):
    """The request is valid but clashes with the current state (e.g. changing a logged param)."""

    status = 409
    code = "CONFLICT"


class IntegrityError(ShipyardError, RuntimeError):
    """Stored bytes do not match their recorded SHA-256: a corrupted or tampered artifact."""

    status = 422
    code = "INTEGRITY_ERROR"


class UnsafeModelError(ShipyardError, RuntimeError):
    """Loading a model would run code that was not explicitly trusted."""

    status = 422
    code = "UNSAFE_MODEL"


class ConfigError(ShipyardError, ValueError):
    """A configuration value or ``shipyard.yaml`` is invalid."""

    status = 400
    code = "CONFIG_ERROR"


class StoreUnavailable(ShipyardError, ConnectionError):
    """The metadata database or team server cannot be reached."""

    status = 503
    code = "UNAVAILABLE"


_BY_CODE: dict[str, type[ShipyardError]] = {}


def error_class(code: str) -> type[ShipyardError]:
    """Return the error class for a wire ``code`` (``ShipyardError`` when unknown)."""
    if not _BY_CODE:
        stack: list[type[ShipyardError]] = [ShipyardError]
        while stack:
            cls = stack.pop()
            _BY_CODE.setdefault(cls.code, cls)
            stack.extend(cls.__subclasses__())
    return _BY_CODE.get(code, ShipyardError)


def from_wire(code: str, message: str) -> ShipyardError:
    """Rebuild an error received over HTTP, keeping its class."""
    cls = error_class(code)
    err = cls.__new__(cls)
    ShipyardError.__init__(err, message)
    return err


__all__ = [
    "AlreadyExists",
    "ConfigError",
    "Conflict",
    "FilterSyntaxError",
    "IntegrityError",
    "InvalidArgument",
    "NotFound",
    "PayloadTooLarge",
    "ShipyardError",
    "StoreUnavailable",
    "UnsafeModelError",
    "error_class",
    "from_wire",
]
