"""Every command line README.md shows runs: each with --help appended (the cheapest way to
start it, parse its flags' names and exit), from the checkout, exit 0."""
import os
import re
import shlex
import subprocess
import sys

import pytest

from conftest import ROOT

PREFIXES = ("python scripts/", "nst-tf ", "python bench/scripts/")


def readme_commands() -> list:
    """The command lines of README.md that start with PREFIXES: the indented (code block) lines,
    with their backslash continuations, and the `inline` ones."""
    text = (ROOT / "README.md").read_text()
    commands = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        if line.startswith(PREFIXES) and lines[i].startswith("    "):
            while line.endswith("\\") and i + 1 < len(lines):
                i += 1
                line = line[:-1].rstrip() + " " + lines[i].strip()
            commands.append(line)
        i += 1
    for line in lines:  # one line at a time: ``` fences would pair the backticks wrongly
        if not line.lstrip().startswith("```"):
            commands += [span for span in re.findall(r"`([^`]+)`", line)
                         if span.startswith(PREFIXES)]
    return commands


def test_the_readme_shows_commands():
    commands = readme_commands()
    assert any(c.startswith("nst-tf transfer --content examples/cat.jpg") for c in commands)
    assert "nst-tf download-weights" in commands and "python scripts/transfer.py" in commands
    assert any(c.startswith("python scripts/batch.py") for c in commands)
    assert "python scripts/download_weights.py" in commands


@pytest.mark.parametrize("command", readme_commands())
def test_each_readme_command_starts(command):
    words = shlex.split(command, comments=True)
    if words[0] == "nst-tf":  # the installed command; from the checkout: python -m nst_tf.cli
        words = ["python", "-m", "nst_tf.cli", *words[1:]]
    words[0] = sys.executable
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([*words, "--help"], capture_output=True, text=True, timeout=120,
                          cwd=ROOT, env=env)
    assert done.returncode == 0, (command, done.stderr)
    assert done.stdout.startswith("usage: "), command
