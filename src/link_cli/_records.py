"""Immutable records without :mod:`dataclasses`, for modules on the CLI's start-up path.

``dataclasses`` imports :mod:`inspect` (and with it ``ast``, ``dis`` and ``tokenize``): about
30 ms of a ``link-cli`` run on a small machine, longer than the rest of ``--help``. A
:func:`frozen_record` class behaves like a frozen dataclass for what this code needs (an
``__init__`` taking the annotated fields, ``__eq__``, ``__hash__``, ``__repr__``,
``__match_args__``, a ``__post_init__`` hook, :func:`replace` and ``copy.replace``), and type
checkers see a frozen dataclass (``dataclass_transform``).

A default is shared by every instance, so a mapping default must be immutable:
:data:`EMPTY_MAPPING` rather than ``{}``.
"""

from __future__ import annotations

from types import MappingProxyType

TYPE_CHECKING = False  # `typing` costs ~5 ms at start-up; only type checkers need it
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any, TypeVar, dataclass_transform

    _Record = TypeVar("_Record")
else:

    def dataclass_transform(**_: object) -> Any:
        """Only type checkers read the marker; at run time it leaves the function as it is."""
        return lambda function: function


__all__ = ["EMPTY_MAPPING", "frozen_record", "replace"]

EMPTY_MAPPING: Mapping[str, Any] = MappingProxyType({})
"""The default for a mapping field: read-only, so sharing it between instances is safe."""


@dataclass_transform(frozen_default=True)
def frozen_record(cls: type[_Record]) -> type[_Record]:
    """Make ``cls`` an immutable record of its annotated fields, like a frozen dataclass.

    Fields are the class annotations in order; a class attribute of the same name is the
    default. The generated ``__init__`` takes them positionally or by keyword, then calls
    ``__post_init__`` when the class defines one (to validate).
    """
    names = tuple(cls.__dict__.get("__annotations__", {}))  # noqa: RUF063 - no `inspect` here
    defaults = {n: cls.__dict__[n] for n in names if n in cls.__dict__}
    post_init = getattr(cls, "__post_init__", None)

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if len(args) > len(names):
            raise TypeError(f"{cls.__name__} takes at most {len(names)} positional arguments")
        values = dict(zip(names, args, strict=False))
        for key, value in kwargs.items():
            if key not in names or key in values:
                raise TypeError(f"{cls.__name__}: unexpected or repeated argument {key!r}")
            values[key] = value
        for name in names:
            if name not in values:
                if name not in defaults:
                    raise TypeError(f"{cls.__name__}: missing argument {name!r}")
                values[name] = defaults[name]
            object.__setattr__(self, name, values[name])
        if post_init is not None:
            post_init(self)

    def _values(self: Any) -> tuple[Any, ...]:
        return tuple(getattr(self, n) for n in names)

    def __setattr__(self: Any, name: str, value: Any) -> None:
        raise AttributeError(f"cannot assign to field {name!r} of a frozen {cls.__name__}")

    def __delattr__(self: Any, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r} of a frozen {cls.__name__}")

    def __eq__(self: Any, other: object) -> bool:
        return _values(self) == _values(other) if type(other) is type(self) else NotImplemented

    def __hash__(self: Any) -> int:
        return hash(_values(self))

    def __repr__(self: Any) -> str:
        return f"{cls.__name__}(" + ", ".join(f"{n}={getattr(self, n)!r}" for n in names) + ")"

    generated = {
        "__init__": __init__,
        "__setattr__": __setattr__,
        "__delattr__": __delattr__,
        "__eq__": __eq__,
        "__hash__": __hash__,
        "__repr__": __repr__,
        "__match_args__": names,
        "__replace__": lambda self, **changes: replace(self, **changes),
        "__record_fields__": names,
    }
    for attribute, value in generated.items():
        setattr(cls, attribute, value)
    return cls


def replace(record: _Record, **changes: Any) -> _Record:
    """A copy of the :func:`frozen_record` ``record`` with ``changes`` (as
    :func:`dataclasses.replace`)."""
    names: tuple[str, ...] = type(record).__record_fields__  # type: ignore[attr-defined]
    unknown = set(changes) - set(names)
    if unknown:
        raise TypeError(f"{type(record).__name__} has no field {sorted(unknown)[0]!r}")
    values = {name: changes.get(name, getattr(record, name)) for name in names}
    return type(record)(**values)
