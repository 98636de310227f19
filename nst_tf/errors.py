"""The one exception type the library raises for bad input.

Front ends print ``str(error)`` as a single line and exit non-zero; anything else
escaping the library is a bug, not bad input.
"""


class NSTError(ValueError):
    """A problem with the caller's input (a file, a flag value, a weights file), in one line."""
