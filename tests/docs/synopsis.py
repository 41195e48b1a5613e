"""What the ``tracker`` command takes, read from its own parser, to check what the docs say.

A synopsis line (``tracker backup [--data-dir D] -o FILE``) must name a real command and
exactly its options, or some of them if it ends its list with ``...``. An inline command in
the prose (```tracker restore FILE --data-dir D```) may name only options the command has.
"""

from __future__ import annotations

import argparse
import re

from tracker.cli import parser

OPTION = re.compile(r"(?<![\w-])--?[A-Za-z][\w-]*")


def _subcommands(command: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in command._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _options(command: argparse.ArgumentParser) -> dict[str, str]:
    """Each option string of the command, to the action's first (``-o`` -> ``-o``, ``--output``
    -> ``-o``): the same option documented either way counts once."""
    return {string: action.option_strings[0] for action in command._actions
            if action.option_strings and action.dest != "help"
            for string in action.option_strings}  # fmt: skip


def resolve(words: list[str]) -> tuple[list[str], argparse.ArgumentParser, list[str]]:
    """The command path named by ``words`` (``tracker audit verify``), its parser, the rest."""
    assert words[:1] == ["tracker"], words
    command: argparse.ArgumentParser = parser()
    path = ["tracker"]
    rest = words[1:]
    while rest and (found := _subcommands(command).get(rest[0])) is not None:
        command, path, rest = found, [*path, rest[0]], rest[1:]
    return path, command, rest


def lines(text: str) -> list[str]:
    """A synopsis block's command lines (an indented line continues the one above)."""
    found: list[str] = []
    for line in text.splitlines():
        if line[:1].isspace() and found:
            found[-1] += " " + line.strip()
        elif line.strip():
            found.append(line)
    return found


def check(line: str, *, complete: bool) -> list[str]:
    """What is wrong with a documented command line (nothing: an empty list)."""
    text = line.split("  #")[0].strip()
    if not text.startswith("tracker "):
        return [f"`{text}` is not a tracker command line"]
    path, command, rest = resolve(text.split())
    problems = []
    if _subcommands(command):
        choices = "|".join(_subcommands(command))
        for word in rest[:1]:
            if not set(word.split("|")) <= set(_subcommands(command)):
                problems.append(f"`{' '.join(path)} {word}`: no such command ({choices})")
        return problems
    known = _options(command)
    named = OPTION.findall(" ".join(rest))
    unknown = [option for option in named if option not in known]
    if unknown:
        problems.append(f"`{' '.join(path)}` has no option {', '.join(unknown)}")
    if complete and "..." not in text:
        left_out = sorted(set(known.values()) - {known[o] for o in named if o in known})
        if left_out:
            problems.append(f"`{' '.join(path)}` leaves out {', '.join(left_out)}")
    return problems
