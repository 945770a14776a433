"""Absolute links: built from the configured public base URL, never from the request.

Mail (and later IIIF manifests and OAI-PMH records) must carry links to the archive's real
address. Building them from the request's ``Host`` header let a request sent with
``Host: evil.example`` put ``http://evil.example/...`` into an archivist's mail. So every
absolute link comes from :func:`public_url`, which binds the URL map to ``PUBLIC_BASE_URL``
(written by ``oralhist init``; ``https://archive.example.org`` or with a path prefix,
``https://example.org/archive``), whatever the request said.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from flask import current_app, request, url_for

from .transcripts.timecode import format_t_param

#: Used only when neither PUBLIC_BASE_URL nor SERVER_NAME is configured (an archive that was
#: never initialised): what `oralhist serve` listens on by default.
FALLBACK_BASE_URL = "http://127.0.0.1:5000"


def public_base_url(config: Any = None) -> str:
    """The archive's public address without a trailing slash."""
    config = config if config is not None else current_app.config
    configured = config.get("PUBLIC_BASE_URL")
    if configured:
        return str(configured).rstrip("/")
    server = config.get("SERVER_NAME")
    if server:
        root = (config.get("APPLICATION_ROOT") or "/").rstrip("/")
        return f"{config.get('PREFERRED_URL_SCHEME') or 'http'}://{server}{root}"
    return FALLBACK_BASE_URL


def public_url(endpoint: str, **values: Any) -> str:
    """The absolute URL of ``endpoint`` at the public base URL (``_anchor`` as url_for)."""
    base = urlsplit(public_base_url())
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https"
    )
    anchor = values.pop("_anchor", None)
    values = {key: value for key, value in values.items() if value is not None}
    url = adapter.build(endpoint, values, force_external=True)
    if anchor is not None:
        url += "#" + quote(str(anchor), safe="%!#$&'()*+,/:;=?@")
    return url


def trusted_hosts(config: Any) -> list[str]:
    """The ``Host`` names requests may use when ``TRUSTED_HOSTS`` is not set: the public
    base URL's host (and ``SERVER_NAME``'s), plus the loopback names when the archive is
    served locally (no public base URL, or a loopback one)."""
    hosts: list[str] = []
    base = urlsplit(public_base_url(config))
    if base.hostname:
        hosts.append(base.hostname)
    server = config.get("SERVER_NAME")
    if server:
        hosts.append(urlsplit(f"//{server}").hostname or server)
    loopback = ("localhost", "127.0.0.1", "::1", "[::1]")
    if not config.get("PUBLIC_BASE_URL") or base.hostname in loopback:
        hosts.extend(loopback)
    return list(dict.fromkeys(hosts))


def moment_url(
    interview_id: int,
    start_ms: int | None = None,
    *,
    end_ms: int | None = None,
    segment_id: int | None = None,
    anchor: bool = False,
    external: bool = False,
) -> str:
    """The one deep link into an interview: its page opened at a moment.

    ``?t=SECONDS`` starts the player at ``start_ms``, ``end`` marks where a passage ends and
    ``hl`` highlights the segment in the transcript; ``anchor`` adds ``#seg-<id>`` so the
    browser scrolls to it (search results). ``external`` (a citation) gives the archive's
    public address (:func:`public_url`), never the request's ``Host``.
    """
    values: dict[str, Any] = {}
    if start_ms is not None:
        values["t"] = format_t_param(start_ms)
    if end_ms is not None:
        values["end"] = format_t_param(end_ms)
    if segment_id is not None:
        values["hl"] = segment_id
        if anchor:
            values["_anchor"] = f"seg-{segment_id}"
    if external:
        return public_url("catalogue.interview", interview_id=interview_id, **values)
    return url_for("catalogue.interview", interview_id=interview_id, **values)


def safe_next(default: str, target: str | None = None) -> str:
    """Where to go after a form: ``target`` (else the request's ``next`` field or argument)
    when it is a same-origin relative path, else ``default``.

    Only a path that starts with one ``/`` and has no scheme, no host and no backslash (which
    browsers read as ``/``, so ``/\\evil.example`` would leave the site) is followed.
    """
    if target is None:
        target = request.form.get("next") or request.args.get("next") or ""
    if (
        target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and not any(ord(c) < 32 or ord(c) == 127 for c in target)
    ):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return default
