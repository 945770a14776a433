"""Configuration defaults.

Order of precedence (later wins): these defaults, then ``instance/config.py`` (written by
``oralhist init``, holds the secret key), then environment variables prefixed ``OH_`` (for
example ``OH_SQLALCHEMY_DATABASE_URI=postgresql+psycopg://...`` or ``OH_MEDIA_ROOT=/srv/media``),
then the ``test_config`` mapping passed to ``create_app``.

Relative paths are resolved by ``resolve_paths``: ``MEDIA_ROOT`` against the project folder
(the folder that holds ``instance/``), ``SEARCH_INDEX_DIR`` and ``OUTBOX_DIR`` against
``instance/``. A database URL left as ``None`` means SQLite at ``instance/oralhist.sqlite3``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

#: Upload limit for one audio upload request, in bytes (a 100-minute 48 kHz/24-bit WAV master
#: is ~1.7 GB). Only the recording uploads may send this much (``oralhist.web.gate``).
MAX_CONTENT_LENGTH = 4 * 1024**3
#: Under gunicorn, how long one read of a request body may wait for the client (seconds):
#: a body announced and then sent slowly or not at all ends with 400 instead of holding a
#: worker thread. ``oralhist serve --body-timeout`` sets it.
BODY_READ_TIMEOUT_S = 30
#: Body limit of every other request (forms, JSON), in bytes; transcript uploads get the
#: transcript limit and document uploads the attachment limit (plus 1 MiB for the form).
MAX_FORM_BYTES = 1024 * 1024
#: How long audio uploaded on the deposit page waits for its deposit (hours) before
#: ``oralhist init``/``serve`` remove it (``services.deposit.sweep_staged``).
DEPOSIT_STAGED_HOURS = 72
#: Largest document attachment (PDF or image), in bytes.
MAX_ATTACHMENT_BYTES = 200 * 1024**2
#: Where recordings and attachments are stored, content-addressed. Relative to the project.
MEDIA_ROOT = "media"
#: Where media live: ``local`` (files under MEDIA_ROOT) or ``memory`` (a dict: tests only).
MEDIA_STORAGE = "local"
#: Who sends the bytes of audio and attachments once the app has checked access and audited:
#: None (the app), ``nginx`` (``X-Accel-Redirect`` to MEDIA_ACCEL_PREFIX, an internal location
#: aliasing MEDIA_ROOT: docs/deploy/nginx-oralhist.conf) or ``sendfile`` (``X-Sendfile``).
MEDIA_ACCEL = None
MEDIA_ACCEL_PREFIX = "/_media/"
#: With MEDIA_ACCEL = "nginx": answer nginx's ``auth_request`` at ``/_oh/media-check``
#: (web/media_check.py), so nginx sends the player's repeated Range requests of /audio itself
#: from a cached answer (docs/deploy/nginx-oralhist-audio-check.conf). Off: that route is 404.
MEDIA_ACCEL_AUTH = False
#: MEDIA_STORAGE = "s3" (oralhist/media/s3.py; pip install '.[s3]'): the bucket, a key prefix,
#: the endpoint of an S3-compatible store (None: AWS), credentials (None: boto3's usual chain),
#: and delivery: ``proxy`` (the app streams the range) or ``presigned`` (a 302 to the store).
MEDIA_S3_BUCKET = None
MEDIA_S3_PREFIX = ""
MEDIA_S3_ENDPOINT_URL = None
MEDIA_S3_REGION = None
MEDIA_S3_ACCESS_KEY_ID = None
MEDIA_S3_SECRET_ACCESS_KEY = None
MEDIA_S3_DELIVERY = "proxy"
MEDIA_S3_PRESIGN_SECONDS = 300
MEDIA_S3_PART_MB = 8
#: The search engine (``oralhist/search/backend.py``: ``ENGINES``); ``whoosh`` is the embedded one,
#: ``postgresql`` keeps the index in the PostgreSQL database (``OH_SEARCH_BACKEND``).
SEARCH_BACKEND = "whoosh"
#: postgresql backend: the schema its tables live in (created by ``oralhist init``/``reindex``).
SEARCH_PG_SCHEMA = "search"
#: The Whoosh index folder. Relative to instance/.
SEARCH_INDEX_DIR = "search-index"
#: Language of the default analyser (stemming); ``None`` disables stemming.
SEARCH_LANGUAGE = "en"
#: Where mail is written as .eml files when no SMTP server is configured. Relative to instance/.
OUTBOX_DIR = "outbox"
MAIL_SMTP_HOST = None
MAIL_SMTP_PORT = 25
MAIL_FROM = "oralhist@localhost"
#: Interoperability (issue 17). The archive's name in OAI-PMH ``Identify``, Dublin Core and
#: MODS ``publisher``, schema.org JSON-LD and BagIt ``Source-Organization`` (unless set).
OAI_REPOSITORY_NAME = "oralhist"
#: The ``<repository>`` of ``oai:<repository>:interview/<id>``; None: the public URL's host.
#: Changing it changes every identifier harvesters hold: set it once.
OAI_REPOSITORY_IDENTIFIER = None
#: ``adminEmail`` in ``Identify``; None: MAIL_FROM when it is a real address.
OAI_ADMIN_EMAIL = None
#: Records (or headers) per ListRecords/ListIdentifiers page.
OAI_PAGE_SIZE = 100
#: How long a resumption token stays valid (seconds; announced as ``expirationDate``).
OAI_TOKEN_LIFETIME_S = 86400
#: ``Source-Organization`` of BagIt bags; None: OAI_REPOSITORY_NAME.
BAG_SOURCE_ORGANIZATION = None
#: SQLAlchemy URL; ``None`` means SQLite in instance/.
SQLALCHEMY_DATABASE_URI = None
SQLALCHEMY_ENGINE_OPTIONS: dict = {}
#: Secret key: written to instance/config.py by ``oralhist init``; never set here.
SECRET_KEY = None
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
#: Set true when served over HTTPS, so the session cookie is marked Secure.
SESSION_COOKIE_SECURE = False
REMEMBER_COOKIE_HTTPONLY = True
REMEMBER_COOKIE_SAMESITE = "Lax"
#: Sign-in rate limiting (``services/throttle.py``): failures allowed per scope before a
#: lock; the first lock's length, doubled per further failure up to the most; and how long
#: without a failure before a count starts again. ``signup`` counts every sign-up attempt.
SIGNIN_FREE_FAILURES = {"account": 5, "address": 20, "device": 10, "signup": 20}
SIGNIN_LOCK_BASE_S = 30
SIGNIN_LOCK_MAX_S = 15 * 60
SIGNIN_FORGET_AFTER_S = 60 * 60
#: How long a browser that signed in stays known to that account (the device cookie).
SIGNIN_DEVICE_COOKIE_DAYS = 365
#: The archive's public address (scheme, host, optional path prefix), e.g.
#: ``https://archive.example.org``: every absolute link (mail) is built from it, never from
#: the request's Host header. ``oralhist init`` writes ``http://127.0.0.1:5000``.
PUBLIC_BASE_URL = None
#: The repository's name as citations give it ("Nottingham Local Studies Library").
ARCHIVE_NAME = "oralhist"
#: Host names requests may use (Flask's setting; others get 400). ``None``: the public base
#: URL's host, plus localhost/127.0.0.1/::1 when served locally.
TRUSTED_HOSTS = None
#: How many reverse proxies (nginx) stand in front and set X-Forwarded-For/-Proto: their
#: client address is then the one rate limiting counts. 0 when clients connect directly.
PROXY_COUNT = 0
#: werkzeug's password hashing method. Keep scrypt; tests use a fast one.
PASSWORD_HASH_METHOD = "scrypt"
WTF_CSRF_TIME_LIMIT = None
#: CSRF is checked by oralhist itself (every cookie-authenticated write; Bearer-token
#: requests are exempt because browsers never send that header on their own).
WTF_CSRF_CHECK_DEFAULT = False
#: The most segments a transcript may have (a 422 names the limit). A 100-minute interview
#: has 1,000-3,000 cues; 50,000 is a 14-hour session at one cue a second, far beyond any
#: single recorded session, while a runaway file (10^6 one-word turns took 106 s and 1.8 GB
#: to import) is refused. An archivist may import a larger one with the ``large`` option,
#: up to ``TRANSCRIPT_MAX_SEGMENTS_LARGE``; the interview page pages either.
TRANSCRIPT_MAX_SEGMENTS = 50_000
TRANSCRIPT_MAX_SEGMENTS_LARGE = 1_000_000
#: Segments per page of the interview page's transcript (a 100-minute interview fits on a
#: few pages; a 10^6-segment transcript's page took 21.7 s and 245 MiB of HTML when whole),
#: and the JSON transcript API's default and largest ``per_page``.
TRANSCRIPT_PAGE_SEGMENTS = 500
TRANSCRIPT_API_PER_PAGE = 1000
TRANSCRIPT_API_MAX_PER_PAGE = 5000
#: Items per page in lists, and the largest per_page the API accepts.
PER_PAGE = 25
#: The most bytes one Range response of /audio carries for a listen-only grant (the browser
#: asks again for what follows); whole-file requests are refused to such grants.
LISTEN_ONLY_RANGE_BYTES = 1024 * 1024
MAX_PER_PAGE = 100
#: Who applies the search-index work a commit queued: ``None`` (the default) the background
#: indexer (``oralhist worker``, started by ``oralhist serve``) for web requests, and the
#: committing process itself for commands and scripts; ``True`` the committing process
#: always (tests); ``False`` only the background indexer.
SEARCH_SYNC = None
#: How often the background indexer looks for queued index work (seconds; a look is one
#: indexed ``SELECT``), and how often it compares the index's access fields with the
#: database (``oralhist reindex --check``).
WORKER_POLL_SECONDS = 0.1
WORKER_CONSISTENCY_SECONDS = 3600
#: Acoustic models for alignment and transcription beyond the US English in the pocketsphinx
#: wheel: language code -> a PocketSphinx model folder (``mdef``..., a ``*.dict``, for
#: transcription a ``*.lm.bin``), e.g. ``{"cy": "/srv/models/cy"}`` (``oralhist.align.sphinx``).
ALIGN_MODELS: dict = {}
#: Worker processes one alignment uses (``oralhist.align.parallel``): 0 means every CPU the
#: process may use; 1 aligns in the job's own thread.
ALIGN_PROCESSES = 0
#: Niceness added to the background job thread of ``oralhist worker`` (and so to the
#: alignment processes it starts), so a long job yields the CPU to the web server: 0 keeps
#: the worker's own priority. On Linux niceness is per thread: the index loop beside the
#: jobs keeps its priority.
JOB_NICE = 10

ENV_PREFIX = "OH_"


def load_env(config) -> None:
    """Copy ``OH_``-prefixed environment variables into ``config``; JSON values are decoded
    (``OH_PER_PAGE=50``, ``OH_SESSION_COOKIE_SECURE=true``), anything else stays a string."""
    for name, raw in os.environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        key = name[len(ENV_PREFIX) :]
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        config[key] = value


def resolve_paths(config, instance_path: str) -> None:
    """Make the configured paths absolute and fill in the SQLite default."""
    instance = Path(instance_path)
    project = instance.parent
    config["MEDIA_ROOT"] = str((project / config["MEDIA_ROOT"]).resolve())
    for key in ("SEARCH_INDEX_DIR", "OUTBOX_DIR"):
        config[key] = str((instance / config[key]).resolve())
    if not config.get("SQLALCHEMY_DATABASE_URI"):
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'oralhist.sqlite3'}"
