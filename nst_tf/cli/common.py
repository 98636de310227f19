"""What the commands share: transfer flags made from TransferConfig, parsing the command line
into one-line errors (exit 2) and a grouped help, the checks made before TensorFlow starts,
the preset read from the weights file, and turning bad input into one line on stderr.

Nothing here imports TensorFlow (import_tensorflow_quietly does, when a command runs).
"""
import dataclasses
import difflib
import os
import re
import signal
import sys
import textwrap
from pathlib import Path
from typing import Optional

from absl import flags  # noqa: E402

from nst_tf.config import SECTIONS, TransferConfig  # noqa: E402
from nst_tf.config import SHORT_HELP as SETTINGS_SHORT_HELP  # noqa: E402
from nst_tf.errors import NSTError  # noqa: E402
from nst_tf.fields import field_kind, from_text  # noqa: E402
from nst_tf.presets import DEFAULT_ITERATIONS, MODES, default_steps, mode_default  # noqa: E402
# TensorFlow starts quietly (the commands and the bench scripts import these from here).
from nst_tf.tensorflow_quietly import device_name, import_tensorflow_quietly  # noqa: E402,F401

# The checkout (or the folder holding the installed package): examples/ and scripts/ live here
# in a checkout.
ROOT = Path(__file__).resolve().parents[2]

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


def end_run(outcome, interrupted: Optional[str], failed: str) -> None:
    """The one mapping of how a run ended (an engine's Outcome) to what a command says and its
    exit code. Done: nothing, it returns. Interrupted (Ctrl-C: 130, SIGTERM: 143): 'interrupted:
    INTERRUPTED', what was kept and where, or 'interrupted before any result' when nothing was
    (None). The loss no longer finite (1): FAILED, the error and what was kept. Bad input found
    while building (2): the outcome's one line. Anything else is a bug: raised, with its
    traceback."""
    if outcome is None or outcome.status == "done":
        return
    if outcome.stopped_by == "interrupt":
        if interrupted is None:
            fail("interrupted before any result; nothing written", exit_code(outcome.error))
        print(f"interrupted: {interrupted}", file=sys.stderr)
        sys.exit(exit_code(outcome.error))
    if outcome.stopped_by == "non-finite":
        fail(failed, EXIT_FAILED)
    if outcome.stopped_by == "input":
        fail(outcome.message)
    raise outcome.error


_DEFAULTS = TransferConfig()

# Settings a script leaves at their defaults because its own flag of that name means something
# else there (benchmark.py's --size is its picture's longer side).
_EXCLUDED = set()

# Other names of transfer flags, as neural-style (jcjohnson) and Gatys' papers call them:
# {alias: flag}. --style (the texture) is the commands' own flag's alias.
TRANSFER_ALIASES = {"style_weight": "texture_weight", "style_layers": "texture_layers",
                    "style_scale": "texture_scale", "image_size": "max_dim"}


def _define_flag(field: dataclasses.Field, default) -> None:
    """The flag of a settings table's field, its default and help taken from the table."""
    help_text = field.metadata["help"]
    kind = field_kind(field)
    if field.name in ("split", "size"):
        flags.DEFINE_string(field.name, "x".join(map(str, default)), help_text)
    elif "choices" in field.metadata:
        flags.DEFINE_enum(field.name, default, field.metadata["choices"], help_text)
    elif kind.startswith("Tuple"):
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


def define_transfer_flags(exclude=(), aliases: bool = False) -> None:
    """One flag per TransferConfig field, its default and help taken from the dataclass;
    `exclude`: fields that get no flag (and keep their defaults); `aliases`: also define
    TRANSFER_ALIASES."""
    _EXCLUDED.update(exclude)
    for field in dataclasses.fields(TransferConfig):
        if field.name in _EXCLUDED:
            continue
        # A mode-dependent field has no default of its own (None: the mode's, MODE_PRESETS);
        # nor has one that follows others (preset: the weights file's).
        _define_flag(field, None if field.metadata.get("mode_field") or field.default is None
                     else getattr(_DEFAULTS, field.name))
    if aliases:
        for alias, name in TRANSFER_ALIASES.items():
            if name not in _EXCLUDED:
                flags.DEFINE_alias(alias, name)


def define_table_flags(table) -> None:
    """One flag per field of another settings table (VideoSettings), as for TransferConfig."""
    defaults = table()
    for field in dataclasses.fields(table):
        _define_flag(field, getattr(defaults, field.name))


def table_from_flags(table):
    """The `table` (VideoSettings) the command line asks for; a flag's text read by the table's
    own codec (nst_tf.fields), its error naming the flag."""
    values = {}
    for field in dataclasses.fields(table):
        value = flags.FLAGS[field.name].value
        values[field.name] = ",".join(value) if isinstance(value, list) else value
    try:
        return table(**values)
    except NSTError as error:
        name = str(error).split()[0]
        raise NSTError(f"--{error}" if name in values else str(error)) from None


def config_from_flags(**overrides) -> TransferConfig:
    """The TransferConfig the command line asks for (without --preset, the preset follows the
    weights file, as in the library: every script runs what the transfer command would)."""
    values = {}
    for field in dataclasses.fields(TransferConfig):
        if field.name in _EXCLUDED:
            continue
        value = flags.FLAGS[field.name].value
        if isinstance(value, list):  # absl's list flags: back to the text the user wrote
            value = ",".join(value)
        if isinstance(value, str) and field_kind(field).startswith("Tuple"):
            try:  # the one codec of settings written as text (nst_tf.fields)
                value = from_text(field.name, field_kind(field), value)
            except NSTError as error:
                raise NSTError(f"--{error}" if str(error).startswith(field.name)
                               else str(error)) from None
        values[field.name] = value
    values.update(overrides)
    config = TransferConfig(**values)
    given = [name for name in values if name in flags.FLAGS and flags.FLAGS[name].present]
    for name, users in config.unused_settings(given):
        raise NSTError(f"--{name} is for --optimizer {' or '.join(users)}; --optimizer "
                       f"{config.optimizer} does not use it")
    for line in config.units_warnings(given, prefix="--"):
        say(line)
    return config


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


# ---------------------------------------------------------------------------------------------
# Checks made before TensorFlow starts.

# What to suggest when an output flag names a folder.
_EXAMPLE_NAMES = {"output": "result.png", "metrics": "metrics.jsonl", "sheet": "sheet.png",
                  "plot": "loss.png"}


def check_output_path(flag: str, path) -> None:
    """NSTError with one line when --`flag` `path` is a folder, or is in a folder that does not
    exist (image outputs: also a format that cannot be written, a folder that cannot be
    written)."""
    from nst_tf.io.images import check_writable
    path = Path(path)
    if os.path.isdir(path):  # os.path's: False, not OSError, for a name too long
        raise NSTError(f"--{flag} {path} is a folder; give a file name such as "
                       f"{path / _EXAMPLE_NAMES.get(flag, 'result.png')}")
    folder = path.parent
    if flag != "output" and not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else "does not exist"
        raise NSTError(f"--{flag} {path}: the folder {folder} {what}")
    if flag != "metrics":
        check_writable(path)


def check_output_dir(flag: str, path) -> None:
    """NSTError with one line when --`flag` `path` (a folder to create or fill) is a file, or
    sits under one."""
    path = Path(path)
    for folder in (path, *path.parents):
        if folder.exists():
            if not folder.is_dir():
                raise NSTError(f"--{flag} {path}: {folder} is a file, not a folder")
            return


# ---------------------------------------------------------------------------------------------
# The command line: help in groups, one-line errors.

# The flags everyone uses, shown first; then the settings by section (nst_tf.config.SECTIONS),
# then the transfer command's output files.
COMMON_FLAGS = ("content", "texture", "output", "mode", "max_dim", "iterations", "weights",
                "faithful", "preset")
OUTPUT_GROUP = ("output files and progress", ("save_every", "metrics", "sheet", "plot",
                                              "progress", "log_every"))

# A line of help for the commands' own flags; the settings' are nst_tf.config.SHORT_HELP.
SHORT_HELP = {
    **SETTINGS_SHORT_HELP,
    # The command line's own: a bare --seamless (see _rewrite); the page has a checkbox.
    "seamless": SETTINGS_SHORT_HELP["seamless"] + " A bare --seamless is xy.",
    "content": "The photo whose layout and colours are kept (not for --mode synthesize).",
    "texture": "The texture (or style) photo; several comma-separated are blended.",
    "output": "The result file: png, jpg, bmp, tif or webp.",
    "save_every": "Also write the image every N steps beside the output (NAME_00050.png); 0 "
                  "never.",
    "sheet": "Also write a contact sheet here: content | texture | result.",
    "progress": "A progress bar on a terminal, else a line every --log_every steps.",
}

# Value names in the help, by flag.
METAVARS = {"content": "PHOTO", "texture": "PHOTO", "output": "FILE", "weights": "FILE",
            "metrics": "FILE", "sheet": "FILE", "plot": "FILE.png", "init": "IMAGE",
            "split": "WxH", "size": "WxH", "jobs": "FILE.csv", "content_dir": "FOLDER",
            "output_dir": "FOLDER", "dest": "PATH", "url": "URL", "md5": "HEX",
            "ray_address": "ADDRESS", "texture_layers": "LAYERS", "content_layers": "LAYERS",
            "texture_layer_weights": "W1,W2,...", "texture_blend": "W1,W2,...",
            "content_mask": "IMAGE", "region_colors": "COLOURS", "texture_masks": "IMAGES",
            "from": "FILE"}


def _metavar(name: str, flag) -> str:
    if flag.boolean:
        return ""
    if name in METAVARS:
        return "=" + METAVARS[name]
    if getattr(flag.parser, "enum_values", None):
        return "=" + "|".join(flag.parser.enum_values)
    kind = flag.parser.flag_type()
    return {"int": "=N", "float": "=X", "list": "=A,B"}.get(kind, "=TEXT")


def _shown(value) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value) or "empty"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, bool):
        return "on" if value else "off"
    return "none" if value is None else str(value)


def _default_text(name: str) -> str:
    fields = {field.name: field for field in dataclasses.fields(TransferConfig)}
    field = fields.get(name)
    if field is not None and field.metadata.get("mode_field"):
        # The calibrated preset's (the default), and --faithful's where the texture mode's differs.
        values = {mode: _shown(mode_default(mode, "normalized", name)) for mode in MODES}
        listed = ", ".join(f"{mode} {value}" for mode, value in values.items())
        shown = (values["texture"] if len(set(values.values())) == 1
                 else "by mode: " + listed if len(listed) <= 60
                 else f"by mode; texture: {values['texture']}")
        faithful = _shown(mode_default("texture", "imagenet", name))
        return shown if faithful == values["texture"] else f"{shown}; --faithful: {faithful}"
    if name == "iterations":
        return (f"{default_steps('adam', 'texture', 'normalized')} Adam; --faithful "
                f"{DEFAULT_ITERATIONS['adam']}; {DEFAULT_ITERATIONS['lbfgs']} L-BFGS")
    if name == "preset":
        return "the file's"
    flag = flags.FLAGS[name]
    return _shown(flag.default)


def _first_sentence(text: str) -> str:
    text = re.sub(r"^<[^>]*>: ", "", text.strip())  # absl's enum prefix
    match = re.match(r"(.+?\.)(\s|$)", text)
    return match.group(1) if match else text


def _aliases_of(name: str) -> list:
    return sorted(alias for alias, flag in _ALIASES.items() if flag == name)


# {alias: flag} of the command (TRANSFER_ALIASES and the command's own), and -o.
_ALIASES = {}
_SHORT = {"o": "output"}

HELP_WIDTH, HELP_COLUMN = 100, 30


def _flag_lines(name: str) -> list:
    flag = flags.FLAGS[name]
    left = f"  --{'[no]' if flag.boolean else ''}{name}{_metavar(name, flag)}"
    others = [f"--{alias}" for alias in _aliases_of(name)]
    others += [f"-{short}" for short, long in _SHORT.items() if long == name and _SHORT_ON[0]]
    if others:
        left += f" ({', '.join(others)})"
    short = _OWN_HELP.get(name) or SHORT_HELP.get(name)
    text = f"{short or _first_sentence(flag.help)} [{_default_text(name)}]"
    indent = " " * HELP_COLUMN
    lines = textwrap.wrap(text, HELP_WIDTH, initial_indent=indent, subsequent_indent=indent)
    if len(left) < HELP_COLUMN - 1:
        return [left.ljust(HELP_COLUMN) + lines[0][HELP_COLUMN:]] + lines[1:]
    return [left] + lines


_SHORT_ON = [False]
# A command's own short help for its flags, over SHORT_HELP (batch's --texture is not
# transfer's).
_OWN_HELP = {}


def help_text(usage: str, description: str, groups) -> str:
    """The help: usage, what the command does, then each group's flags with their defaults."""
    parts = [f"usage: {usage}", "", description.strip(), ""]
    for title, names in groups:
        names = [name for name in names if name in flags.FLAGS]
        if not names:
            continue
        parts.append(f"{title}:")
        for name in names:
            parts.extend(_flag_lines(name))
        parts.append("")
    parts.append("[...]: the default. --helpfull: every flag with its whole help.")
    return "\n".join(parts)


def transfer_groups(first=COMMON_FLAGS, skip=(), title="common", prefix="",
                    output_files: bool = True):
    """The transfer flags' help groups: `first` under `title`, then the settings' sections
    (their titles after `prefix`) without those, then the transfer command's output files
    (output_files); `skip`: flags left out."""
    groups = [(title, tuple(name for name in first if name not in skip))]
    for section, names in SECTIONS + ((OUTPUT_GROUP,) if output_files else ()):
        names = tuple(name for name in names if name not in skip and name not in first)
        groups.append((prefix + section, names))
    return groups


_HELP = ("-h", "--help", "-help", "--helpshort", "-helpshort", "-?")


def _is_flag_token(token: str) -> bool:
    return token.startswith("-") and not re.match(r"-\.?\d", token)


def _suggestion(name: str) -> str:
    """'; did you mean --x?' for an unknown flag close to a known one (or the same words in
    another order), else ''."""
    known = list(flags.FLAGS)
    known += ["no" + n for n in flags.FLAGS if flags.FLAGS[n].boolean]
    known += list(_SHORT) if _SHORT_ON[0] else []
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.75) or [
        other for other in known if sorted(other.split("_")) == sorted(name.split("_"))][:1]
    if not close:
        return ""
    dashes = "-" if close[0] in _SHORT else "--"
    return f"; did you mean {dashes}{close[0]}?"


def _value_error(name: str, value: str, reason: str) -> str:
    """One line for a flag whose value cannot be read."""
    flag = flags.FLAGS[name] if name in flags.FLAGS else None
    if flag is None:
        return f"--{name}={value}: {reason}"
    if "must have a value other than None" in reason or (value == "None"
                                                        and "required" in reason.lower()):
        return f"--{name} is required"
    enum_values = getattr(flag.parser, "enum_values", None)
    if enum_values:
        close = difflib.get_close_matches(value, enum_values, n=1, cutoff=0.6)
        tip = f"; did you mean {close[0]}?" if close else ""
        return f"--{name} takes one of {', '.join(enum_values)}, got {value!r}{tip}"
    if flag.boolean:
        return f"--{name} takes true or false (or --{name} / --no{name}), got {value!r}"
    kind = flag.parser.flag_type()
    if kind == "int":
        return f"--{name} takes a whole number, got {value!r}"
    if kind == "float":
        return f"--{name} takes a number, got {value!r}"
    return f"--{name}={value}: {reason}"


def flag_error(error: Exception) -> str:
    """The one line (after 'error: ') for an absl flags.Error."""
    if isinstance(error, flags.UnrecognizedFlagError):
        name = error.flagname
        if len(name) == 1:  # -o outside transfer, -x
            return f"unknown flag -{name}"
        return f"unknown flag --{name}{_suggestion(name)}"
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    match = re.match(r"flag --(\w+)=(.*?): (.*)$", text)
    if match:
        return _value_error(*match.groups())
    match = re.match(r"Missing value for flag --?(\w+)", text)
    if match:
        return f"--{match.group(1)} needs a value"
    return text


def _rewrite(args: list, short: bool) -> list:
    """-o FILE (and -o=FILE) -> --output=FILE; a bare --seamless -> --seamless=xy; a
    value-taking flag followed by another flag instead of its value is an error, not that flag
    taken as the value."""
    out, i = [], 0
    while i < len(args):
        token = args[i]
        if token == "--":
            out.extend(args[i:])
            break
        if short and token in ("-o", "--o"):
            if i + 1 >= len(args) or _is_flag_token(args[i + 1]):
                fail("-o needs a value: -o FILE")
            out.append(f"--output={args[i + 1]}")
            i += 2
            continue
        if short and token.startswith(("-o=", "--o=")):
            out.append("--output=" + token.split("=", 1)[1])
            i += 1
            continue
        if token in ("--seamless", "-seamless") and (i + 1 >= len(args)
                                                     or _is_flag_token(args[i + 1])):
            # A bare --seamless (no value follows) means both directions: --seamless=xy.
            out.append("--seamless=xy")
            i += 1
            continue
        name = token.lstrip("-")
        if (_is_flag_token(token) and "=" not in token and name in flags.FLAGS
                and not flags.FLAGS[name].boolean):
            if i + 1 >= len(args) or _is_flag_token(args[i + 1]):
                fail(f"--{name} needs a value")
        out.append(token)
        i += 1
    return out


def _print_help(text: str) -> None:
    """Prints the help on stdout and exits 0 (also when the reader, e.g. `head`, stopped)."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(0)


def flags_parser(command: str, usage: str, description: str, groups,
                 short_output: bool = False, aliases=None, short_help=None, metavars=None):
    """A flags_parser for absl's app.run: -h/--help print the grouped help and exit 0;
    --helpfull absl's whole list; a flag error is one line `error: ...` and exit 2 (absl's own
    would be two lines and exit 1). command: the nst-tf subcommand; usage: its arguments, for
    the usage line; short_output: -o means --output; aliases: {alias: flag} to show in the
    help; short_help: {flag: one line} for the help, over SHORT_HELP; metavars: {flag: value
    name} for the help, over METAVARS (the video's --content is a CLIP)."""
    METAVARS.update(metavars or {})
    _ALIASES.update(TRANSFER_ALIASES)
    _OWN_HELP.update(short_help or {})
    _ALIASES.update(aliases or {})
    _SHORT_ON[0] = short_output

    def parse(argv):
        argv = list(argv)
        args = argv[1:]
        script = Path(argv[0]).name if argv else ""
        shown = (f"python scripts/{script}" if script.endswith(".py")
                 else f"nst-tf {command}") + f" {usage}"
        before_dashes = args[:args.index("--")] if "--" in args else args
        if any(token in _HELP for token in before_dashes):
            _print_help(help_text(shown, description, groups))
        if any(token in ("--helpfull", "-helpfull") for token in before_dashes):
            _print_help(f"usage: {shown}\n\n{flags.FLAGS.get_help()}")
        args = _rewrite(args, short_output)
        try:
            return flags.FLAGS(argv[:1] + args)
        except flags.Error as error:
            fail(flag_error(error))
    return parse


def duration(seconds: float) -> str:
    """12.3 s, or 4.5 min from two minutes on."""
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def say(line: str) -> None:
    """One line on stderr (the start and end lines)."""
    print(line, file=sys.stderr, flush=True)
