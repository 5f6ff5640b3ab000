"""`Record` and `FrozenRecord`: bases for small typed records on the start-up paths.

`import dataclasses` costs ~6 ms (it imports `inspect`, `ast`, `dis`, `tokenize`) and each
`@dataclass` ~0.3-0.7 ms more at import (it generates code with exec); `tokensafe get`, `run`
and `audit` import dozens of records, so they use these instead: plain `__slots__` classes
with a hand-written `__init__`, equality and a repr by field (the fields are the `__slots__`,
in order, bases first). A field listed in `_secret` is left out of the repr (tracebacks, test
output). A record pickles as a call of its class with its field values (smaller and faster
than a dataclass's state: the guard's workers send their results to the parent this way),
so a subclass's `__init__` takes its fields positionally, in `__slots__` order, and called
with a record's field values builds an equal record. Any layer may import this module: it
imports only `operator`, which `re`, `typing` and `collections` import anyway.
"""

from __future__ import annotations

from operator import attrgetter

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _field_names(cls: type) -> tuple[str, ...]:
    names: list[str] = []
    for c in reversed(cls.__mro__):
        slots = c.__dict__.get("__slots__", ())
        names.extend((slots,) if isinstance(slots, str) else slots)
    return tuple(names)


class Record:
    """Mutable, unhashable, equal field by field to a record of the same class (as a dataclass)."""

    __slots__ = ()
    _secret: tuple[str, ...] = ()
    _names: tuple[str, ...] = ()
    _get = staticmethod(lambda self: ())  # the field values as a tuple (C code, for pickle)

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        cls._names = names = _field_names(cls)
        if len(names) > 1:
            cls._get = staticmethod(attrgetter(*names))
        elif names:
            one = attrgetter(names[0])
            cls._get = staticmethod(lambda self: (one(self),))

    def _fields(self) -> tuple[str, ...]:
        return self._names

    def _values(self) -> tuple[Any, ...]:
        return self._get(self)

    def __reduce__(self) -> tuple[type, tuple[Any, ...]]:
        return type(self), self._get(self)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]  # mutable, like a dataclass

    def __repr__(self) -> str:
        shown = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._names if f not in self._secret)
        return f"{type(self).__name__}({shown})"

    def as_dict(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in self._names}


init_field = object.__setattr__  # a FrozenRecord's __init__ assigns its fields with this


class FrozenRecord(Record):
    """Immutable after `__init__` (which assigns with `init_field`) and hashable by its
    fields, like a frozen dataclass."""

    __slots__ = ()

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"cannot assign to field {name!r} of a {type(self).__name__}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r} of a {type(self).__name__}")

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(self._values())
