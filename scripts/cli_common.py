"""What the command-line scripts share: the import path, transfer flags made from TransferConfig,
and turning bad input into one line on stderr with a non-zero exit."""
import dataclasses
import os
import signal
import sys
from pathlib import Path

# TensorFlow's C++ start-up chatter would bury the one line a user needs to read.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The scripts run from a checkout, without installing the package.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from absl import flags  # noqa: E402


def import_tensorflow_quietly() -> None:
    """Imports TensorFlow with stderr silenced.

    TensorFlow's native start-up writes lines (oneDNN notes, CUDA probing) straight to file
    descriptor 2, before any logging setting applies; they would bury the single line a user
    needs. Python errors raised by the import still surface once stderr is back.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow as tf
        import keras  # noqa: F401
        tf.config.list_physical_devices()  # device probing prints too
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


from nst_tf.config import TransferConfig  # noqa: E402
from nst_tf.fields import field_kind, parse_split  # noqa: E402
from nst_tf.errors import NSTError  # noqa: E402

EXIT_FAILED = 1  # the run itself failed (its loss stopped being finite)
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 128 + signal.SIGINT  # 130, the shell's convention for a signal
EXIT_TERMINATED = 128 + signal.SIGTERM  # 143


class Terminated(KeyboardInterrupt):
    """SIGTERM (a `kill`, a job scheduler's stop), raised like Ctrl-C's KeyboardInterrupt so the
    same code keeps the work; exits 143 instead of 130."""


def _raise_terminated(signum, frame):
    raise Terminated()


def exit_code(interrupt: KeyboardInterrupt) -> int:
    """130 for Ctrl-C, 143 for SIGTERM."""
    return EXIT_TERMINATED if isinstance(interrupt, Terminated) else EXIT_INTERRUPTED

_DEFAULTS = TransferConfig()


# Settings a script leaves at their defaults because its own flag of that name means something
# else there (benchmark.py's --size is its picture's longer side).
_EXCLUDED = set()


def define_transfer_flags(exclude=()) -> None:
    """One flag per TransferConfig field, its default and help taken from the dataclass;
    `exclude`: fields that get no flag (and keep their defaults)."""
    _EXCLUDED.update(exclude)
    for field in dataclasses.fields(TransferConfig):
        if field.name in _EXCLUDED:
            continue
        # A mode-dependent field has no default of its own (None: the mode's, MODE_PRESETS).
        default = None if field.metadata.get("mode_field") else getattr(_DEFAULTS, field.name)
        help_text = field.metadata["help"]
        kind = field_kind(field)
        if field.name in ("split", "size"):
            flags.DEFINE_string(field.name, "x".join(map(str, default)), help_text)
        elif "choices" in field.metadata:
            flags.DEFINE_enum(field.name, default, field.metadata["choices"], help_text)
        elif kind.startswith("Tuple[str") or kind.startswith("Tuple[float"):
            flags.DEFINE_list(field.name, None if default is None else [str(v) for v in default],
                              help_text)
        elif kind == "bool":
            flags.DEFINE_boolean(field.name, default, help_text)
        elif "int" in kind:
            flags.DEFINE_integer(field.name, default, help_text)
        elif "float" in kind:
            flags.DEFINE_float(field.name, default, help_text)
        else:
            flags.DEFINE_string(field.name, default, help_text)


def config_from_flags(**overrides) -> TransferConfig:
    """The TransferConfig the command line asks for."""
    values = {}
    for field in dataclasses.fields(TransferConfig):
        if field.name in _EXCLUDED:
            continue
        value = flags.FLAGS[field.name].value
        if field.name in ("split", "size"):
            value = parse_split(value, field.name)
        elif isinstance(value, list):
            value = tuple(item.strip() for item in value if item.strip())
            if field_kind(field).startswith("Tuple[float"):
                value = _floats(field.name, value)
        values[field.name] = value
    values.update(overrides)
    return TransferConfig(**values)


def _floats(name: str, items) -> tuple:
    try:
        return tuple(float(item) for item in items)
    except ValueError:
        raise NSTError(f"--{name} takes comma-separated numbers, got {','.join(items)!r}") from None


def log_report(report, config: TransferConfig, every: int = 1) -> None:
    """One progress line (nst_tf.report.progress.format_report) through absl's log, every `every` steps
    (and every step of a level above the first, which are few and slow)."""
    from absl import logging
    from nst_tf.report.progress import format_report
    if every <= 0 or ((report.step + 1) % every and report.level == 0):
        return
    steps = config.steps if report.level == 0 else config.refine_iterations
    logging.info("%s", format_report(report, steps))


def fail(message: str, code: int = EXIT_BAD_INPUT) -> None:
    """Ends the program with one line on stderr."""
    print(f"error: {message}", file=sys.stderr)
    sys.exit(code)


def guarded(main):
    """Wraps an absl main so that bad input (NSTError) ends in one line, not a traceback, and
    SIGTERM is handled as Ctrl-C is (a main that has work to keep catches KeyboardInterrupt;
    one that reaches here had none: one line, and 130 or 143)."""
    def wrapper(argv):
        signal.signal(signal.SIGTERM, _raise_terminated)
        if len(argv) > 1:
            fail(f"unexpected arguments: {' '.join(argv[1:])} (flags are written --name=value)")
        try:
            return main(argv)
        except NSTError as error:
            fail(str(error))
        except KeyboardInterrupt as interrupt:
            fail("interrupted before any result; nothing written", exit_code(interrupt))
    return wrapper


def path_flags(config: TransferConfig) -> dict:
    """The files a transfer's config reads besides the content and texture: {flag: path}."""
    from nst_tf.io.inputs import INIT_KINDS
    init = None if config.init in INIT_KINDS else config.init
    weights = None if config.weights in (None, "imagenet", "random") else config.weights
    return {"init": init, "weights": weights}
