"""Methods are found by name through the `inpaintbench.methods` entry-point group.

The harness never imports a particular method: a package (this repo's `methods`, or anyone
else's) declares `[project.entry-points."inpaintbench.methods"] NAME = "module:Class"`.
`register` adds one at run time, for notebooks and tests.
"""
from __future__ import annotations

import inspect
import re
from importlib.metadata import entry_points

from .errors import InputError, did_you_mean
from .method import InpaintingMethod

GROUP = "inpaintbench.methods"
_runtime: dict[str, type[InpaintingMethod]] = {}
#: a name is a --method value, part of a run's name (NAME+poisson, NAME+hflip) and its default folder
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def register(name: str, cls: type[InpaintingMethod]) -> None:
    """Add a method under `name` for this process. Registering a name again (a notebook's cell run
    twice) replaces it; an installed method's name is refused, since its runs and reports would
    then say that method's name of another method's numbers, and so is any name that differs from
    one there is only by case."""
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise InputError(f"method name {name!r}: letters, digits, '_', '.' and '-' only, starting with a letter or "
                         f"digit (a name is a --method value and a folder's, and '+' joins it to +poisson and +hflip)")
    if not (isinstance(cls, type) and issubclass(cls, InpaintingMethod)):
        raise InputError(f"method {name!r}: {cls!r} is not an InpaintingMethod subclass")
    installed = next((ep.value for ep in entry_points(group=GROUP) if ep.name == name), None)
    if installed:
        raise InputError(f"method {name!r} is installed ({installed}); register yours under another name")
    # a run's default folder is runs/DATASET/NAME, one folder for Telea and telea where names fold
    # case (macOS, Windows): the second method's run would land in the first's folder
    if other := next((n for n in available() if n.lower() == name.lower() and n != name), None):
        raise InputError(f"method {name!r} differs from the method {other!r} only by case, and their run folders are "
                         f"one where file names ignore case (macOS, Windows); register yours under another name")
    _runtime[name] = cls


def available() -> list[str]:
    return sorted({ep.name for ep in entry_points(group=GROUP)} | set(_runtime))


def method_class(name: str) -> type[InpaintingMethod]:
    if name in _runtime:
        return _runtime[name]
    eps = [ep for ep in entry_points(group=GROUP) if ep.name == name]
    if not eps:
        raise InputError(f"unknown method {name!r}{did_you_mean(name, available())}; "
                         f"available: {', '.join(available()) or 'none (is the package installed?)'}")
    if len({ep.value for ep in eps}) > 1:
        # the first by the order of sys.path had taken the name, its runs tabled and checked as the other's
        packages = " and ".join(f"{ep.dist.name if ep.dist else '?'} ({ep.value})" for ep in eps)
        raise InputError(f"method {name!r} is declared by {len(eps)} installed packages, {packages}: a run of it would "
                         f"be one of them by the order of sys.path; uninstall one")
    try:
        cls = eps[0].load()
    # a plugin's import fails every way: its dependencies, its driver, its entry point's typo
    except Exception as e:  # noqa: BLE001
        raise InputError(f"method {name!r} ({eps[0].value}) cannot be imported: {type(e).__name__}: {e}") from None
    if not (isinstance(cls, type) and issubclass(cls, InpaintingMethod)):
        raise InputError(f"method {name!r} ({eps[0].value}) is not an InpaintingMethod subclass")
    return cls


def create(name: str, eval_size: int | None = None, **kwargs) -> InpaintingMethod:
    """`eval_size`: the run's evaluation side, given to a method that wants it (`wants_size`) by every
    caller alike, so a run from Python, the CLI or a report's grids builds the same method."""
    cls = method_class(name)
    if eval_size is not None and cls.wants_size:
        # runs made before the side was passed here carry it in their method options
        if kwargs.setdefault("size", eval_size) != eval_size:
            raise InputError(f"method {name}: its options say size {kwargs['size']}, the run --size {eval_size}: give one")
    _refuse_unknown_options(name, cls, kwargs)
    method = cls(**kwargs)
    if not all(hasattr(method, a) for a in ("device", "weights", "options")):
        # else the run's first use of them failed as "'Mine' object has no attribute 'weights'"
        raise InputError(f"method {name}: its __init__ did not call InpaintingMethod.__init__ "
                         f"(`super().__init__(device, weights, **options)`), which keeps the device, the weights and "
                         f"the options its runs record")
    if not method.name:  # a class that names itself not: its manifest and captions take the registered name
        method.name = name
    return method


#: what every caller passes a method's constructor besides its options (runner, report grids, bench)
HARNESS_ARGUMENTS = ("device", "weights")


def _refuse_unknown_options(name: str, cls: type[InpaintingMethod], kwargs: dict) -> None:
    """A method whose constructor names its options (no `**options`) has a misspelt one refused
    here: the base class records every option it is given, so `method_options={"radiu": 5}` had
    gone into the manifest and the report's caption beside the radius really used. A constructor
    with `**options` (a method that reads `self.options`) keeps taking any."""
    params = inspect.signature(cls).parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return
    unknown = [k for k in kwargs if k not in params]
    if harness := [k for k in unknown if k in HARNESS_ARGUMENTS]:
        # refused as options the script never gave, when the constructor was written without them
        raise InputError(f"method {name}: its __init__ takes no {', '.join(map(repr, harness))}, which every run "
                         f"passes (the device, the weights file or None): take them and hand them on, `def "
                         f"__init__(self, device=\"cpu\", weights=None, **options): super().__init__(device, weights, "
                         f"**options)`")
    if unknown:
        named = [p for p in params if p not in HARNESS_ARGUMENTS]
        raise InputError(f"method {name} takes no option {', '.join(map(repr, unknown))}"
                         f"{did_you_mean(unknown[0], named) if len(unknown) == 1 else ''}; "
                         f"its options: {', '.join(named) or 'none'}")
