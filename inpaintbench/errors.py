"""Errors the CLI turns into one readable line instead of a traceback."""


class InputError(Exception):
    """Bad input named precisely: a file, a folder, a method or an argument, and what was expected."""


class MethodError(InputError):
    """A method broke the interface contract (wrong shape, NaN, wrong weights)."""
