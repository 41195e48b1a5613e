"""The webhook signature rule against the HMAC test vectors of behavior.md section 14."""

from __future__ import annotations

import pytest

from tracker.webhook import signature, signature_matches, tracked_ref

BODY = (
    b'{"ref": "refs/heads/master", "after": "new", '
    b'"repository": {"full_name": "username/repo_name"}}'
)
SECRET = "my-webhook-secret"
SHA256 = "df9b82e6171103cc15f9c953581c73fc9003242d733bfc12ddd69bc242a0c027"
SHA1 = "a93d0691b4993d47b9769fb49605ddac2b6adc5a"


def test_signature_gives_the_section_14_vectors() -> None:
    assert signature(BODY, SECRET, "sha256") == SHA256
    assert signature(BODY, SECRET, "sha1") == SHA1


@pytest.mark.parametrize(
    ("header", "algorithm"),
    [
        (SHA256, "sha256"),
        (f"sha256={SHA256}", "sha256"),
        (f" sha256={SHA256.upper()} ", "sha256"),
        (f"sha1={SHA1}", "sha1"),
        (SHA1, "sha1"),
    ],
)
def test_a_prefixed_or_bare_hex_signature_matches(header: str, algorithm: str) -> None:
    assert signature_matches(header, BODY, SECRET, algorithm)


@pytest.mark.parametrize(
    ("header", "algorithm"),
    [
        (f"sha1={SHA256}", "sha256"),  # the prefix must name the configured hash
        (f"sha256={SHA1}", "sha1"),
        (SHA1, "sha256"),
        ("", "sha256"),
        (f"x=sha256={SHA256}", "sha256"),
        (SHA256[:32], "sha256"),
    ],
)
def test_anything_else_does_not(header: str, algorithm: str) -> None:
    assert not signature_matches(header, BODY, SECRET, algorithm)
    assert not signature_matches(SHA256, BODY + b" ", SECRET, "sha256")
    assert not signature_matches(SHA256, BODY, SECRET + "x", "sha256")


def test_the_tracked_ref_is_a_branch_or_a_full_ref() -> None:
    assert tracked_ref("master") == "refs/heads/master"
    assert tracked_ref("refs/tags/release") == "refs/tags/release"
