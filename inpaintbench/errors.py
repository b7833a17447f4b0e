"""Errors the CLI turns into one readable line instead of a traceback."""


class InputError(Exception):
    """Bad input named precisely: a file, a folder, a method or an argument, and what was expected."""


class MethodError(InputError):
    """A method broke the interface contract (wrong shape, NaN, wrong weights)."""


class BadSetting(InputError, ValueError):
    """A setting that cannot work (a crop size, a schedule name, weights of another network); also a
    ValueError, so library callers that catch that keep working."""


class MissingInput(InputError, FileNotFoundError):
    """A file or folder the user named, or the tool needs, is not there; also a FileNotFoundError."""
