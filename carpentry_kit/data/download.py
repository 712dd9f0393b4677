"""Bounded HTTP downloads: a size limit, a total-time limit, and http(s) only, on every redirect.

A per-socket timeout alone does not stop a server that sends one byte every few seconds, nor one that
sends forever. ``fetch(url, stream, limits)`` therefore enforces three bounds:

* **size**: the file's expected size when known (``size_bytes`` in the spec, or a ``Content-Length``
  header), else ``DownloadLimits.max_bytes`` (``CARPENTRY_DOWNLOAD_LIMIT_GB``, default 2 GiB);
* **total time**: a watchdog shuts the connection down when ``total_s`` has passed
  (``CARPENTRY_DOWNLOAD_TIMEOUT_S``, default 1800 s), whatever the server sends — headers included;
* **scheme**: only ``http://`` and ``https://`` are opened, and every redirect is checked (urllib on its
  own would follow one to ``ftp://``).

Every refusal is a ``DownloadError`` with one line saying what happened and how to fix it.
"""

from __future__ import annotations

import contextlib
import http.client
import math
import os
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

LIMIT_ENV = "CARPENTRY_DOWNLOAD_LIMIT_GB"
TIMEOUT_ENV = "CARPENTRY_DOWNLOAD_TIMEOUT_S"
DEFAULT_LIMIT_GB = 2.0
DEFAULT_TOTAL_S = 1800.0
SOCKET_TIMEOUT_S = 30.0  # no byte for this long: the connection is dead
SCHEMES = ("http", "https")
_CHUNK = 1 << 16


class DownloadError(Exception):
    """A download refused or stopped: ``message`` says what happened, ``hint`` how to fix it."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(f"{message} — {hint}")
        self.message, self.hint = message, hint


@dataclass(frozen=True)
class DownloadLimits:
    """How much and how long a download may take; ``expected_bytes`` is the file's size when known."""

    max_bytes: int
    total_s: float
    expected_bytes: int | None = None

    @classmethod
    def from_environment(cls, expected_bytes: int | None = None) -> DownloadLimits:
        gigabytes = _positive_env(LIMIT_ENV, DEFAULT_LIMIT_GB, "e.g. 2 for 2 GiB")
        seconds = _positive_env(TIMEOUT_ENV, DEFAULT_TOTAL_S, "e.g. 600")
        return cls(int(gigabytes * 2**30), seconds, expected_bytes)

    @property
    def allowed_bytes(self) -> int:
        return self.expected_bytes if self.expected_bytes is not None else self.max_bytes


def _positive_env(name: str, default: float, example: str) -> float:
    text = os.environ.get(name)
    if text is None or not text.strip():
        return default
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise DownloadError(f"{name}={text!r} is not a positive, finite number", f"set it to {example}")
    return value


def fetch(url: str, write: Callable[[bytes], Any], limits: DownloadLimits) -> None:
    """Stream ``url`` within ``limits``, handing each chunk that arrives to ``write``."""
    _check_scheme(url, url)
    watchdog = _Watchdog(limits.total_s)
    opener = urllib.request.build_opener(
        _DeadlineHTTPHandler(watchdog), _DeadlineHTTPSHandler(watchdog), _SchemeCheckingRedirects()
    )
    try:
        with watchdog, opener.open(url, timeout=SOCKET_TIMEOUT_S) as response:
            _check_length(response, limits)
            _copy(response, write, limits, watchdog)
    except DownloadError:
        raise
    except (OSError, http.client.HTTPException, ValueError) as error:
        if watchdog.expired:
            raise _too_slow(limits) from None
        raise _network_error(url, error) from None


def _copy(response: Any, write: Callable[[bytes], Any], limits: DownloadLimits, watchdog: _Watchdog) -> None:
    written = 0
    while True:
        chunk = response.read1(_CHUNK)  # returns what has arrived: a drip feed cannot hold it for long
        if watchdog.expired:
            raise _too_slow(limits)
        if not chunk:
            break
        written += len(chunk)
        if written > limits.allowed_bytes:
            raise _too_big(limits)
        try:
            write(chunk)
        except OSError as error:
            raise DownloadError(
                f"cannot write the download ({error.strerror or error})",
                "free some space, or set CARPENTRY_CACHE to a directory with room",
            ) from None
    if limits.expected_bytes is not None and written != limits.expected_bytes:
        raise DownloadError(
            f"the download ended after {written:,} bytes, not the expected {limits.expected_bytes:,}",
            "try again, or check size_bytes",
        )


def _check_length(response: Any, limits: DownloadLimits) -> None:
    header = response.headers.get("Content-Length")
    length = int(header) if header and header.strip().isdigit() else None
    if length is None:
        return
    if limits.expected_bytes is not None and length != limits.expected_bytes:
        raise DownloadError(
            f"the server announces {length:,} bytes, the spec's size_bytes says {limits.expected_bytes:,}",
            "check the URL and size_bytes",
        )
    if length > limits.max_bytes:
        raise _too_big(limits, announced=length)


def _too_big(limits: DownloadLimits, announced: int | None = None) -> DownloadError:
    if limits.expected_bytes is not None:
        return DownloadError(
            f"the download is larger than the spec's size_bytes ({limits.expected_bytes:,} bytes)",
            "check the URL and size_bytes",
        )
    limit = _size(limits.max_bytes)
    if announced is not None:
        what = f"the server announces {announced:,} bytes, more than the download limit of {limit}"
    else:
        what = f"the download passed the limit of {limit} and was stopped"
    return DownloadError(what, f"raise {LIMIT_ENV} (GiB), or give the file's size_bytes in the spec")


def _size(count: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:.3g} {unit}"
        count /= 1024
    return f"{count:.3g} GiB"


def _too_slow(limits: DownloadLimits) -> DownloadError:
    return DownloadError(
        f"the download took longer than {limits.total_s:g} s and was stopped",
        f"raise {TIMEOUT_ENV}, or download the file yourself and give its path",
    )


def _network_error(url: str, error: BaseException) -> DownloadError:
    if isinstance(error, urllib.error.HTTPError):
        return DownloadError(f"download of {url} failed: HTTP {error.code} {error.reason}", "check the URL")
    reason = getattr(error, "reason", None) or error
    return DownloadError(
        f"cannot reach {url}: {reason}",
        "check the URL and the network, or download the file and give its path",
    )


def _check_scheme(url: str, original: str) -> None:
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme not in SCHEMES:
        via = "" if url == original else f" (a redirect from {original})"
        raise DownloadError(
            f"refused to download {url}{via}: only http and https are allowed",
            "give an http(s) URL that serves the file itself",
        )


class _SchemeCheckingRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only to http(s); urllib would also follow one to ftp://."""

    max_redirections = 10

    def http_error_302(self, req: Any, fp: Any, code: int, msg: str, headers: Any) -> Any:
        from urllib.parse import urljoin

        location = headers.get("location") or headers.get("uri")
        try:
            if location:
                _check_scheme(urljoin(req.full_url, location), req.full_url)
        except DownloadError:
            fp.close()
            raise
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302


class _Watchdog:
    """Shuts down every socket it watches once ``seconds`` have passed, so any blocked read returns."""

    def __init__(self, seconds: float) -> None:
        self.seconds, self.expired = seconds, False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _shutdown(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shutdown(sock)

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(socket.SHUT_RDWR)


def _watched(base: type, watchdog: _Watchdog) -> type:
    class WatchedConnection(base):  # type: ignore[misc, valid-type]
        def connect(self) -> None:
            super().connect()
            watchdog.watch(self.sock)

    return WatchedConnection


class _DeadlineHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, watchdog: _Watchdog) -> None:
        super().__init__()
        self.connection = _watched(http.client.HTTPConnection, watchdog)

    def http_open(self, req: Any) -> Any:
        return self.do_open(self.connection, req)


class _DeadlineHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, watchdog: _Watchdog) -> None:
        super().__init__()
        self.connection = _watched(http.client.HTTPSConnection, watchdog)

    def https_open(self, req: Any) -> Any:
        return self.do_open(self.connection, req, context=self._context)
