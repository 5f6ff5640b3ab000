"""`Record`: a base for the service's small typed inputs and results on the start-up path.

`@dataclass` costs ~0.7 ms per class at import (it generates code with exec); the modules
that `tokensafe get` and `run` import define several records, so they use this instead:
plain `__slots__` classes with a hand-written `__init__`, equality and a repr by field.
A field listed in `_secret` is left out of the repr (tracebacks, test output).
"""

from __future__ import annotations

from typing import Any


class Record:
    __slots__ = ()
    _secret: tuple[str, ...] = ()

    def _fields(self) -> tuple[str, ...]:
        return tuple(f for cls in reversed(type(self).__mro__) for f in getattr(cls, "__slots__", ()))

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in self._fields())

    __hash__ = None  # type: ignore[assignment]  # mutable, like a dataclass

    def __repr__(self) -> str:
        shown = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._fields() if f not in self._secret)
        return f"{type(self).__name__}({shown})"

    def as_dict(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in self._fields()}
