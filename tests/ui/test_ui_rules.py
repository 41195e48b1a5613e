"""The UI's pure rules: dashboard figures, language choice, where a form may send you."""

from __future__ import annotations

import pytest

from tracker.http.routes.meta import prefers_html
from tracker.ui import i18n, stats
from tracker.ui.guard import safe_back
from tracker.ui.views.projects import git_repo_of


def test_durations_shares_and_windows_read_as_people_say_them() -> None:
    assert stats.duration(1800) == "00h30m00s"
    assert stats.duration(86_400 + 3661) == "1d 01h01m01s"  # the original showed 2d here
    assert stats.duration(None) == "—"
    assert (stats.window(45), stats.window(300), stats.window(390)) == (
        "45 s",
        "5 min",
        "6 min 30 s",
    )
    assert (stats.percent(0.125), stats.percent(None)) == ("12.5 %", "—")


@pytest.mark.parametrize(
    ("header", "lang"),
    [("fr-FR,fr;q=0.9,en;q=0.8", "fr"), ("en-US,fr;q=0.5", "en"), ("de", "en"), ("", "en"),
     ("de, fr;q=0.3", "fr"), ("fr;q=bad, en;q=0.1", "en")],
)  # fmt: skip
def test_the_default_language_comes_from_accept_language(header: str, lang: str) -> None:
    assert i18n.from_accept_language(header) == lang


def test_french_translates_and_unknown_text_stays_english() -> None:
    french = i18n.translator("fr")
    assert french("Projects") == "Projets"
    assert french("Something new") == "Something new"


@pytest.mark.parametrize(
    ("text", "safe"),
    [("/ui/projects", "/ui/projects"), ("https://evil.example/", "/ui/x"),
     ("//evil.example/ui/", "/ui/x"), ("/ui/\\evil", "/ui/x"), ("", "/ui/x")],
)  # fmt: skip
def test_a_form_only_sends_you_back_to_a_ui_page(text: str, safe: str) -> None:
    assert safe_back(text, "/ui/x") == safe


def test_prefers_html_reads_qualities() -> None:
    assert prefers_html("text/html")
    assert prefers_html("text/*;q=0.9, application/json;q=0.5")
    assert not prefers_html("*/*")
    assert not prefers_html("text/html;q=0.5, application/json")


def test_the_git_repository_comes_from_the_clone_urls_last_two_parts() -> None:
    assert git_repo_of("https://github.com/simon987/task_tracker.git") == "simon987/task_tracker"
    assert git_repo_of("https://gogs.example/team/repo/") == "team/repo"
    assert git_repo_of("not a url") == ""
