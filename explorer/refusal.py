"""Refusal: the one shape of a refused input in the pure modules. str() is the English message (what the
public API returns); `code` and `values` let a UI word the same refusal in the page's language, from its own
table keyed by the code. Each module subclasses it with its English `TEMPLATES`."""
from __future__ import annotations

from typing import Any, ClassVar


class Refusal(ValueError):
    """A ValueError made from TEMPLATES[code].format(**values), keeping `code` and `values`."""

    TEMPLATES: ClassVar[dict[str, str]] = {}

    def __init__(self, code: str, **values: Any):
        super().__init__(self.TEMPLATES[code].format(**values))
        self.code, self.values = code, dict(values)

    def __reduce__(self):  # pickles (a ZeroGPU worker sends errors back) with its code and values
        return _rebuild, (type(self), self.code, self.values)


def _rebuild(cls: type[Refusal], code: str, values: dict) -> Refusal:
    error = Refusal.__new__(cls)
    Refusal.__init__(error, code, **values)
    return error
