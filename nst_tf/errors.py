"""The one exception type the library raises for bad input.

Front ends print ``str(error)`` as a single line and exit non-zero; anything else
escaping the library is a bug, not bad input.
"""


class NSTError(ValueError):
    """A problem with the caller's input (a file, a flag value, a weights file), in one line."""


class NonFiniteLoss(ArithmeticError):
    """The loss stopped being a finite number: the run stops, keeping its best finite image.

    step: the step (or evaluation) whose loss was not finite; part: which loss part went first
    (direct, content, raw, texture, or total); value: what it was (inf or nan).
    """

    def __init__(self, step: int, part: str, value: float):
        self.step, self.part, self.value = step, part, value
        super().__init__(f"the {part} loss became {value} at step {step}")
