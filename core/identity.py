"""A hosted-demo visitor's identity: a random 128-bit id, kept by the browser in a signed cookie.

The cookie's value is ``v1.<id: 32 hex digits>.<issued: unix seconds>.<mac>``, where ``mac`` is
an HMAC-SHA256 (first 128 bits) of the rest under a key only this server has (made once, kept
in the runs folder with mode 0600). So a value is accepted only if this server issued it and
it is younger than ``LIFETIME_S``: a forged, truncated, edited or stale cookie — or one issued
by another installation — reads as no cookie at all, and its bearer becomes a fresh visitor.
The id itself never appears in a URL, a link, a run card or a log line; it is only the owner
field of the visitor's runs on the server.

Nothing here draws; ``ui/state.py`` reads the cookie and ``ui/cookies.py`` writes it.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import time
from pathlib import Path

from core.paths import runs_root

COOKIE = "dlstudio_visitor"
LIFETIME_S = 30 * 24 * 3600        # a month; every visit renews it
VERSION = "v1"
_lock = threading.Lock()


def new_visitor() -> str:
    """A fresh id: 128 random bits as 32 hex digits."""
    return secrets.token_hex(16)


def _key_path() -> Path:
    return runs_root() / ".visitor-key"


def server_key() -> bytes:
    """This installation's signing key, created on first use (readable by this user only).
    Two processes starting at once agree: the file is created exclusively, the loser reads it."""
    path = _key_path()
    with _lock:
        try:
            key = path.read_bytes()
            if len(key) >= 32:
                return key
        except FileNotFoundError:
            pass
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_bytes(32)
        try:
            handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            time.sleep(0.05)
            return path.read_bytes()
        with os.fdopen(handle, "wb") as stream:
            stream.write(key)
        return key


def _mac(body: str) -> str:
    return hmac.new(server_key(), body.encode(), hashlib.sha256).hexdigest()[:32]


def issue(visitor: str, now: float | None = None) -> str:
    """The cookie value that names ``visitor`` from ``now`` on."""
    if not is_visitor_id(visitor):
        raise ValueError("a visitor id is 32 lower-case hex digits")
    body = f"{VERSION}.{visitor}.{int(time.time() if now is None else now)}"
    return f"{body}.{_mac(body)}"


def verify(value: str | None, now: float | None = None) -> str | None:
    """The visitor a cookie value names, or None when it is missing, malformed, forged, from
    another server or older than ``LIFETIME_S``."""
    if not value or len(value) > 120:
        return None
    parts = value.split(".")
    if len(parts) != 4 or parts[0] != VERSION or not is_visitor_id(parts[1]) \
            or not parts[2].isdigit():
        return None
    body = ".".join(parts[:3])
    if not hmac.compare_digest(_mac(body), parts[3]):
        return None
    age = (time.time() if now is None else now) - int(parts[2])
    if age < -300 or age > LIFETIME_S:       # (a few minutes of clock skew allowed)
        return None
    return parts[1]


def is_visitor_id(text: str) -> bool:
    return len(text) == 32 and all(ch in "0123456789abcdef" for ch in text)
