"""A setting's value from text, and from the natural Python forms: one codec for the command
line, the batch CSV and TransferConfig's own arguments.

A field's kind is its annotation as text without Optional[...]: 'int', 'float', 'bool', 'str',
'Tuple[int, int]' (split and size, written WxH), 'Tuple[float, ...]', 'Tuple[int, ...]',
'Tuple[str, ...]' (written comma-separated). No TensorFlow here.
"""
from __future__ import annotations

import dataclasses
import numbers
import os
from typing import Tuple

from nst_tf.errors import NSTError

_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no")


def knob(default, help_text, **extra):
    """A settings table's field (TransferConfig's, VideoSettings'): its default, and the help
    text (and choices) that travel to the command-line flag and the web page's field made from
    it."""
    return dataclasses.field(default=default, metadata={"help": help_text, **extra})


def field_kind(field: dataclasses.Field) -> str:
    """A field's type as text without Optional[...]: 'float', 'Tuple[str, ...]', 'bool'..."""
    kind = str(field.type)
    return kind[len("Optional["):-1] if kind.startswith("Optional[") else kind


def parse_split(text: str, name: str = "split") -> Tuple[int, int]:
    """'2x3' -> (2, 3): 2 columns (width), 3 rows (height). `size` may be 0x0 (its default)."""
    parts = text.lower().split("x")
    try:
        columns, rows = (int(p) for p in parts)
    except ValueError:
        example = "2x2" if name == "split" else "640x480"
        raise NSTError(f"{name} must look like WxH (e.g. {example}), got {text!r}") from None
    if (columns < 1 or rows < 1) and not (name == "size" and columns == rows == 0):
        raise NSTError(f"{name} must be positive, got {text!r}")
    return columns, rows


def _readable(kind: str) -> str:
    return ("true or false" if kind == "bool" else "WxH" if kind == "Tuple[int, int]"
            else "a whole number" if kind == "int"
            else "comma-separated numbers" if kind.startswith("Tuple[float")
            else "comma-separated whole numbers" if kind.startswith("Tuple[int, ...")
            else "layer names" if kind.startswith("Tuple[str") else "a number" if kind == "float"
            else "text")


def from_text(name: str, kind: str, text: str):
    """The value of setting `name` of `kind` written as text, as on the command line ('2x2',
    '1e3', 'true', 'block1_conv1,block2_conv1'); NSTError names the setting when it cannot be
    read."""
    text = text.strip()
    try:
        if kind == "Tuple[int, int]":
            return parse_split(text, name)
        if kind.startswith("Tuple[float"):
            return tuple(float(item) for item in text.split(",") if item.strip())
        if kind.startswith("Tuple[int, ..."):
            return tuple(int(item) for item in text.split(",") if item.strip())
        if kind.startswith("Tuple[str"):
            return tuple(item.strip() for item in text.split(",") if item.strip())
        if kind == "bool":
            if text.lower() not in _TRUE + _FALSE:
                raise ValueError(text)
            return text.lower() in _TRUE
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
        return text
    except NSTError:  # an NSTError is a ValueError too: keep its own message
        raise
    except ValueError:
        raise NSTError(f"{name} takes {_readable(kind)}, got {text!r}") from None


def coerced(name: str, kind: str, value):
    """`value` of setting `name` in the type its `kind` names, from the forms a Python caller
    would write: text as on the command line ('2x2', 'a,b'), a list for a tuple, an int for a
    float. None passes through (a mode's default). A value of another type is an NSTError
    naming the setting."""
    if value is None:
        return None
    if isinstance(value, str) and kind != "str":
        return from_text(name, kind, value)
    wrong = NSTError(f"{name} takes {_readable(kind)}, got {value!r} "
                     f"({type(value).__name__})")
    if kind.startswith("Tuple"):
        if not isinstance(value, (list, tuple)):
            raise wrong
        item_kind = ("int" if kind.startswith("Tuple[int") else "float"
                     if kind.startswith("Tuple[float") else "str")
        try:
            items = tuple(coerced(name, item_kind, item) for item in value)
        except NSTError:
            raise wrong from None
        if kind == "Tuple[int, int]" and len(items) != 2:
            raise NSTError(f"{name} takes two whole numbers (W, H), got {value!r}")
        return items
    if kind == "bool":
        if not isinstance(value, bool):
            raise wrong
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise wrong
        return int(value)
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise wrong
        return float(value)
    if isinstance(value, os.PathLike):  # init, weights: a path
        return os.fspath(value)
    if not isinstance(value, str):
        raise wrong
    return value
