"""Shell blocks as commands: one per line (a trailing backslash continues it), or, in a
transcript, the lines after a ``$ `` prompt, each with the output lines printed below it."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

PROMPT = "$ "
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
LONG_RUNNING = (("tracker", "serve"), ("tracker", "work"))  # started, then stopped by the test


@dataclass
class Command:
    offset: int  # its first line within the block (0: the block's first line)
    text: str
    output: list[str] = field(default_factory=list)  # a transcript's lines below it

    def words(self) -> list[str]:
        """Its words as the shell splits them, comments dropped."""
        return shlex.split(self.text, comments=True)

    def assignments(self) -> dict[str, str]:
        """The ``NAME=value`` words before the command name."""
        found = {}
        for word in self.words():
            if not ASSIGNMENT.match(word):
                break
            name, value = word.split("=", 1)
            found[name] = value
        return found

    def argv(self) -> list[str]:
        """The command name and its arguments (after any assignments)."""
        return self.words()[len(self.assignments()) :]

    @property
    def long_running(self) -> bool:
        return tuple(self.argv()[:2]) in LONG_RUNNING

    @property
    def simple(self) -> bool:
        """Words only: no operator, redirection or substitution, so it can run without a
        shell (and be signalled itself)."""
        lexer = shlex.shlex(self.text, posix=True, punctuation_chars=True)
        lexer.whitespace_split, lexer.commenters = True, "#"
        operators = [word for word in lexer if set(word) <= set("();<>|&")]
        unquoted = re.sub(r"'[^']*'", "", self.text)
        return not operators and not re.search(r"[$`*?]", unquoted)


def is_transcript(text: str) -> bool:
    first = next((line for line in text.splitlines() if line.strip()), "")
    return first.startswith(PROMPT)


def commands(text: str) -> list[Command]:
    """The commands of a shell block or a transcript, in order."""
    transcript = is_transcript(text)
    found: list[Command] = []
    pending: Command | None = None
    for offset, line in enumerate(text.splitlines()):
        if pending is not None:  # a continued line
            pending.text += "\n" + line
        elif transcript and not line.startswith(PROMPT):
            if found and line.strip():
                found[-1].output.append(line)
            continue
        elif not line.strip() or line.lstrip().startswith("#"):
            continue
        else:
            pending = Command(offset, line.removeprefix(PROMPT) if transcript else line)
        if not line.endswith("\\"):
            found.append(pending)
            pending = None
    if pending is not None:
        found.append(pending)
    return found


def pattern(documented: str) -> re.Pattern[str]:
    """A line of documented output as a pattern: numbers stand for any number, ``...`` (and
    an abridged hash such as ``5f0c...e2``) for anything."""
    parts = []
    abridged = re.sub(r"\b[0-9a-f]*\.\.\.[0-9a-f]*\b", "...", documented.strip())  # 5f0c...e2
    for piece in re.split(r"(\.\.\.|\d[\d,.]*\d|\d)", abridged):
        if piece == "...":
            parts.append(".*?")
        elif piece and piece[0].isdigit():
            parts.append(r"[\d,.]+")
        else:
            parts.append(re.escape(piece))
    return re.compile("".join(parts))


def missing_output(documented: list[str], printed: str) -> list[str]:
    """The documented lines that the printed output does not show, in order."""
    lines = iter(printed.splitlines())
    return [line for line in documented
            if not any(pattern(line).fullmatch(got.strip()) for got in lines)]  # fmt: skip
