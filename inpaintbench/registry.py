"""Methods are found by name through the `inpaintbench.methods` entry-point group.

The harness never imports a particular method: a package (this repo's `methods`, or anyone
else's) declares `[project.entry-points."inpaintbench.methods"] NAME = "module:Class"`.
`register` adds one at run time, for notebooks and tests.
"""
from __future__ import annotations

from importlib.metadata import entry_points

from .errors import InputError
from .method import InpaintingMethod

GROUP = "inpaintbench.methods"
_runtime: dict[str, type[InpaintingMethod]] = {}


def register(name: str, cls: type[InpaintingMethod]) -> None:
    _runtime[name] = cls


def available() -> list[str]:
    return sorted({ep.name for ep in entry_points(group=GROUP)} | set(_runtime))


def method_class(name: str) -> type[InpaintingMethod]:
    if name in _runtime:
        return _runtime[name]
    eps = [ep for ep in entry_points(group=GROUP) if ep.name == name]
    if not eps:
        raise InputError(f"unknown method {name!r}; available: {', '.join(available()) or 'none (is the package installed?)'}")
    try:
        cls = eps[0].load()
    except ImportError as e:
        raise InputError(f"method {name!r} ({eps[0].value}) cannot be imported: {e}") from None
    if not (isinstance(cls, type) and issubclass(cls, InpaintingMethod)):
        raise InputError(f"method {name!r} ({eps[0].value}) is not an InpaintingMethod subclass")
    return cls


def create(name: str, **kwargs) -> InpaintingMethod:
    return method_class(name)(**kwargs)
