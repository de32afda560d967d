"""Stand-ins for tagged-union members stepwire does not know yet, and the strict-mode marker.

An unknown member is a ``dict`` subclass holding the object exactly as parsed.
Being a dict is what lets it encode back unchanged through any msgspec encoder
(``msgspec.json.encode``, ``msgspec.to_builtins``) without an ``enc_hook``, so a
relay that re-encodes a page never drops or breaks a tool call it cannot read.
"""

from __future__ import annotations

from typing import Any

from msgspec import UNSET, UnsetType

__all__ = [
    "EXTRA_KEY",
    "ExtraFields",
    "StrictAs",
    "UnknownAction",
    "UnknownActivity",
    "UnknownObject",
    "UnknownOutput",
    "UnknownOutputDelta",
    "UnknownStepDetails",
    "UnknownStepDetailsDelta",
    "UnknownToolCall",
    "UnknownToolCallDelta",
]


class StrictAs:
    """``Annotated`` metadata: the type a field is checked against when ``strict=True``.

    Plain msgspec ignores it, so the default decoder pays nothing for it.
    """

    __slots__ = ("type",)

    def __init__(self, type: Any) -> None:
        self.type = type

    def __repr__(self) -> str:
        return f"StrictAs({self.type!r})"


#: The JSON name of the ``extra`` field of every model Struct. It is never read
#: from a body (a body's key of this name is an unknown field like any other),
#: and ``stepwire.encode`` writes the fields it holds in its place; only an
#: encoder that is not stepwire's (``msgspec.json.encode``) writes it out.
EXTRA_KEY = "__stepwire_extra__"


class ExtraFields(dict[str, Any]):
    """The fields of an object that stepwire does not model, as parsed, by JSON name.

    Every model object has one in ``.extra`` (``UNSET`` when there are none).
    ``stepwire.encode`` writes them back in the object, so a body decodes and
    encodes without losing a field that a newer API version added.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"ExtraFields({dict.__repr__(self)})"


class UnknownObject(dict[str, Any]):
    """A tagged object of a ``type`` stepwire does not model.

    The mapping is the complete object as parsed; ``.type`` reads its tag and
    ``.data`` returns it as a plain ``dict``.
    """

    __slots__ = ()

    @property
    def type(self) -> str:
        """The object's ``type`` tag."""
        value = self.get("type")
        return value if isinstance(value, str) else ""

    @property
    def data(self) -> dict[str, Any]:
        """The complete object as parsed (a copy, as a plain ``dict``)."""
        return dict(self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(type={self.type!r}, data={dict.__repr__(self)})"


class _HasId(UnknownObject):
    __slots__ = ()

    @property
    def id(self) -> str | UnsetType:
        """The object's ``id``, or ``UNSET`` if it has none."""
        value = self.get("id", UNSET)
        return value if isinstance(value, str) else UNSET


class _HasIndex(UnknownObject):
    __slots__ = ()

    @property
    def index(self) -> int:
        """The delta's ``index`` (checked to be an integer when decoded)."""
        value: int = self["index"]
        return value


class UnknownToolCall(_HasId):
    """A tool call of a type stepwire does not model (``.type``, ``.id``, ``.data``)."""

    __slots__ = ()


class UnknownToolCallDelta(_HasId, _HasIndex):
    """A tool-call delta of a type stepwire does not model (``.type``, ``.index``, ``.id``)."""

    __slots__ = ()


class UnknownStepDetails(UnknownObject):
    """Step details of a type stepwire does not model."""

    __slots__ = ()


class UnknownStepDetailsDelta(UnknownObject):
    """Delta step details of a type stepwire does not model."""

    __slots__ = ()


class UnknownOutput(UnknownObject):
    """A code interpreter output of a type stepwire does not model."""

    __slots__ = ()


class UnknownOutputDelta(_HasIndex):
    """A code interpreter output delta of a type stepwire does not model."""

    __slots__ = ()


class UnknownAction(UnknownObject):
    """A computer-use action of a type stepwire does not model."""

    __slots__ = ()


class UnknownActivity(UnknownObject):
    """An activity of a type stepwire does not model."""

    __slots__ = ()
