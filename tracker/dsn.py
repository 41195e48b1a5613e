"""PostgreSQL connection strings: the URL form asyncpg takes, the ``key=value`` form of libpq
(which the original's ``config.yml`` shipped: ``user=task_tracker password=... dbname=...
sslmode=disable``), and how either is shown without its password.

The ``key=value`` form is converted to a URL that says the same: every keyword goes into the
query string, where asyncpg reads the ones it knows (``host``, ``port``, ``user``, ``password``,
``dbname``, ``sslmode``, ...) and sends the rest as server settings, as libpq does with
``options='-c name=value'``. Keywords that asyncpg would misread (``connect_timeout``,
``keepalives``, ...) are refused by name. No message here ever holds a value.
"""

from __future__ import annotations

import re
import urllib.parse

SCHEMES = ("postgres", "postgresql")

#: libpq keywords that asyncpg reads from a URL's query string.
_DRIVER = ("host", "port", "dbname", "user", "password", "passfile", "sslmode", "sslcert",
           "sslkey", "sslrootcert", "sslcrl", "sslpassword", "ssl_min_protocol_version",
           "ssl_max_protocol_version", "target_session_attrs", "krbsrvname", "gsslib",
           "service")  # fmt: skip
#: libpq keywords that are server settings (sent at connection start as such).
_SETTINGS = ("application_name", "client_encoding")
KEYWORDS = (*_DRIVER, "hostaddr", *_SETTINGS, "options")

_PAIR = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*")
_SETTING = re.compile(r"(?:-c\s*|--)([A-Za-z_][A-Za-z0-9_.]*)=(\S*)")


class InvalidDsn(ValueError):
    """The connection string cannot be used; the message names the part, never a value."""


def is_url(conn_str: str) -> bool:
    return urllib.parse.urlsplit(conn_str).scheme in SCHEMES


def to_url(conn_str: str) -> str:
    """``conn_str`` as a ``postgresql://`` URL (a URL is returned as it is)."""
    if is_url(conn_str):
        return conn_str
    if "://" in conn_str:
        raise InvalidDsn("must be a PostgreSQL URL (postgresql://user@host:5432/dbname) or "
                         "libpq's key=value form (user=... dbname=... host=...)")  # fmt: skip
    query: dict[str, str] = {}
    for keyword, value in keywords(conn_str):
        if keyword == "options":
            query.update(_settings_in(value))
        elif keyword == "hostaddr":
            query.setdefault("host", value)
        elif keyword in KEYWORDS:
            query[keyword] = value
            if not value:  # libpq's empty value is its default; asyncpg refuses an empty one
                del query[keyword]
        else:
            raise InvalidDsn(f"keyword {keyword!r} is not supported here (use one of "
                             f"{', '.join(KEYWORDS)})")  # fmt: skip
    return _url(query)


def _url(query: dict[str, str]) -> str:
    """``postgresql://user:password@/dbname?the rest``: host and port stay in the query, where
    asyncpg reads them (a host list or a socket directory included)."""
    quote = urllib.parse.quote
    user, password = query.pop("user", ""), query.pop("password", "")
    auth = quote(user, safe="") + (f":{quote(password, safe='')}" if password else "")
    dbname = quote(query.pop("dbname", ""), safe="")
    rest = urllib.parse.urlencode(query, quote_via=quote)
    return f"postgresql://{auth}{'@' if auth else ''}/{dbname}" + (f"?{rest}" if rest else "")


def keywords(conn_str: str) -> list[tuple[str, str]]:
    """libpq's ``keyword = value`` pairs: values bare (a backslash escapes the next character)
    or in single quotes (``\\'`` and ``\\\\`` inside)."""
    pairs, at = [], 0
    while conn_str[at:].strip():
        found = _PAIR.match(conn_str, at)
        if found is None:
            raise InvalidDsn(f"not a key=value pair at character {at + 1} (of the key=value "
                             "form: user=... password=... dbname=... host=...)")  # fmt: skip
        value, at = _value(conn_str, found.end(), found.group(1))
        pairs.append((found.group(1), value))
    return pairs


def _value(text: str, at: int, keyword: str) -> tuple[str, int]:
    quoted = text.startswith("'", at)
    at += quoted
    out = []
    while at < len(text):
        char = text[at]
        if char == "\\" and at + 1 < len(text):
            out.append(text[at + 1])
            at += 2
            continue
        if (quoted and char == "'") or (not quoted and char.isspace()):
            return "".join(out), at + quoted
        out.append(char)
        at += 1
    if quoted:
        raise InvalidDsn(f"the value of {keyword!r} has no closing quote")
    return "".join(out), at


def _settings_in(options: str) -> dict[str, str]:
    """``options='-c search_path=tt -c statement_timeout=0'`` as server settings."""
    settings = {found.group(1): found.group(2) for found in _SETTING.finditer(options)}
    if _SETTING.sub("", options).strip():
        raise InvalidDsn("options: only server settings (-c name=value) are supported")
    return settings


def schema_of(dsn: str) -> str | None:
    """The schema named by the DSN's ``search_path`` (its first entry), if any."""
    paths = urllib.parse.parse_qs(urllib.parse.urlsplit(dsn).query).get("search_path")
    if not paths:
        return None
    first = paths[0].split(",")[0].strip().strip('"')
    return first or None


def redacted(dsn: str) -> str:
    """The DSN without its password (in the user part or the query), for messages."""
    parts = urllib.parse.urlsplit(dsn)
    netloc, query = parts.netloc, parts.query
    if parts.password is not None:
        user, _, host = netloc.rpartition("@")
        netloc = f"{user.partition(':')[0]}:***@{host}"
    if "password" in urllib.parse.parse_qs(query):
        pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
        shown = [(key, "***" if key == "password" else value) for key, value in pairs]
        query = urllib.parse.urlencode(shown, quote_via=urllib.parse.quote, safe="*")
    return f"{parts.scheme}://{netloc}{parts.path}" + (f"?{query}" if query else "")
