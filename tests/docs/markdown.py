"""The code of the project's Markdown files, as CommonMark reads it (markdown-it-py).

``blocks(path)`` lists every code block, fenced or indented, with the line it starts on and
the mark written before it, if any: an HTML comment ``<!-- docs-test: ... -->`` on the lines
just above the block (other comments may stand between), which the reader does not see and the
docs test obeys (tests/docs/test_docs.py lists the marks). ``spans(path)`` lists the inline
code of the prose. A mark that stands before anything but a code block is an error, so none is
ignored silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token

from tests.processes import ROOT

MARK = re.compile(r"^<!--\s*docs-test:\s*(?P<mark>.*?)\s*-->\s*$", re.DOTALL)
FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


class MisplacedMark(Exception):
    """A docs-test mark that does not stand right before a code block."""


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # where the block starts (1-based; a fence's opening line)
    lang: str  # the fence's language ("" for none, and for an indented block)
    text: str
    mark: str = ""  # what the docs-test comment before it says, if there is one
    fenced: bool = True

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"

    def line_of(self, offset: int) -> int:
        """The file's line number of the block's line ``offset`` (0: its first)."""
        return self.line + offset + (1 if self.fenced else 0)

    @property
    def kind(self) -> str:
        return f"```{self.lang}" if self.lang else "code block"


@dataclass(frozen=True)
class Span:
    path: Path
    line: int  # the first line of the paragraph (or cell, or item) that holds it
    text: str

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def _tokens(path: Path) -> list[Token]:
    return MarkdownIt("commonmark").enable("table").parse(path.read_text())


def blocks(path: Path) -> list[Block]:
    """Every code block of the file, in order, each with its mark."""
    found: list[Block] = []
    mark: tuple[str, int] | None = None
    for token in _tokens(path):
        line = token.map[0] + 1 if token.map else 0
        if token.type == "html_block" and (matched := MARK.match(token.content.strip())):
            if mark is not None:
                raise MisplacedMark(f"{path.relative_to(ROOT)}:{mark[1]}: a docs-test mark "
                                    "followed by another mark, not by a code block")  # fmt: skip
            mark = (matched["mark"], line)
            continue
        if token.type == "html_block" and token.content.lstrip().startswith("<!--"):
            continue  # another comment (another test's marker) may stand between
        if token.type in ("fence", "code_block"):
            lang = token.info.split()[0] if token.info.strip() else ""
            found.append(Block(path, line, lang, token.content, mark[0] if mark else "",
                               fenced=token.type == "fence"))  # fmt: skip
            mark = None
        elif mark is not None and token.nesting >= 0:
            raise MisplacedMark(f"{path.relative_to(ROOT)}:{mark[1]}: a docs-test mark must "
                                "stand right before a code block")  # fmt: skip
    if mark is not None:
        raise MisplacedMark(f"{path.relative_to(ROOT)}:{mark[1]}: a docs-test mark at the end")
    return found


def spans(path: Path) -> list[Span]:
    """Every inline code span of the file's prose."""
    found = []
    for token in _tokens(path):
        if token.type == "inline" and token.map:
            found += [Span(path, token.map[0] + 1, child.content)
                      for child in token.children or () if child.type == "code_inline"]  # fmt: skip
    return found
