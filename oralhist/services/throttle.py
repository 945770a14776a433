"""Sign-in rate limiting: failed attempts counted per account, per client address and per
trusted device, in the database so that every gunicorn worker (and host) shares the counts.

Why a table and not Flask-Limiter: Flask-Limiter's shared storage needs Redis or Memcached,
a service this archive does not otherwise run; its in-memory storage is per worker process,
so four workers would allow four times the attempts. A row per (scope, key) with a counter
and a ``locked_until`` is all that is needed, and the database is already shared.

The rules (numbers in ``config.py``, ``SIGNIN_*``):

- Each scope allows some failures for free (``SIGNIN_FREE_FAILURES``); each failure beyond
  them locks the key for ``SIGNIN_LOCK_BASE_S`` doubled per further failure, at most
  ``SIGNIN_LOCK_MAX_S`` (15 minutes). A key with no failure for ``SIGNIN_FORGET_AFTER_S``
  starts again from zero; a successful sign-in clears the account's and device's counts.
- A locked key is refused with 429 and ``Retry-After`` *before* the password is hashed, so a
  locked guesser costs no scrypt time either.
- No lockout is forever, and an attacker cannot keep a real user out: the account lock
  (``account`` scope) applies only to browsers that never signed in to that account. A
  browser that did carries a signed device cookie (``web/auth.py``) and is counted on its own
  ``device`` scope instead (OWASP's "device cookies"), so guessing from elsewhere never locks
  the owner's own browser, while a stolen device cookie is throttled on its own.

Keys are HMAC-SHA256 of the address, e-mail or device nonce under the secret key: the table
holds no address or e-mail in the clear. Counts are written in their own short transaction
(like an API token's "last used"), so they stick whatever the request then does.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
from collections.abc import Iterable
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import and_, case, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from ..access import now
from ..errors import TooManyAttempts
from ..extensions import db
from ..models import SignInThrottle

SCOPES = ("account", "address", "device", "signup")


@dataclass(frozen=True)
class Counter:
    """One thing attempts are counted against: ``scope`` and the raw value (hashed here)."""

    scope: str
    value: str

    @property
    def key(self) -> str:
        secret = str(current_app.config["SECRET_KEY"]).encode()
        message = f"{self.scope}\0{self.value.strip().lower()}".encode()
        return hmac.new(secret, message, hashlib.sha256).hexdigest()


def _where(counter: Counter):
    return and_(SignInThrottle.scope == counter.scope, SignInThrottle.key == counter.key)


def lock_seconds(scope: str, failures: int) -> int:
    """How long ``failures`` failures in a row lock a key of ``scope`` (0: not locked)."""
    config = current_app.config
    over = failures - int(config["SIGNIN_FREE_FAILURES"][scope])
    if over <= 0:
        return 0
    base, most = int(config["SIGNIN_LOCK_BASE_S"]), int(config["SIGNIN_LOCK_MAX_S"])
    return min(most, base * 2 ** min(over - 1, 32))


def check(counters: Iterable[Counter]) -> None:
    """Raise ``TooManyAttempts`` (429) when any of ``counters`` is locked now."""
    counters = list(counters)
    if not counters:
        return
    at = now()
    locked = db.session.scalars(
        select(SignInThrottle.locked_until).where(
            or_(*(_where(c) for c in counters)), SignInThrottle.locked_until > at
        )
    ).all()
    if locked:
        wait = max(math.ceil((until - at).total_seconds()) for until in locked)
        minutes = math.ceil(wait / 60)
        when = f"{wait} seconds" if wait < 120 else f"{minutes} minutes"
        raise TooManyAttempts(
            f"Too many failed attempts. Please wait {when} and try again.", retry_after=wait
        )


def fail(counters: Iterable[Counter]) -> None:
    """Count one failure against each of ``counters`` (and lock those past their free
    failures), in a transaction of its own."""
    at = now()
    forget = at - dt.timedelta(seconds=int(current_app.config["SIGNIN_FORGET_AFTER_S"]))
    with db.engine.begin() as connection:
        for counter in counters:
            # The write comes first, so SQLite takes its write lock at once (no upgrade).
            bumped = connection.execute(
                update(SignInThrottle)
                .where(_where(counter))
                .values(
                    failures=case(
                        (SignInThrottle.last_failure_at < forget, 1),
                        else_=SignInThrottle.failures + 1,
                    ),
                    last_failure_at=at,
                )
            ).rowcount
            if not bumped:
                try:
                    with connection.begin_nested():
                        connection.execute(
                            insert(SignInThrottle).values(
                                scope=counter.scope,
                                key=counter.key,
                                failures=1,
                                last_failure_at=at,
                                locked_until=None,
                            )
                        )
                except IntegrityError:  # another worker inserted it first: count on it
                    connection.execute(
                        update(SignInThrottle)
                        .where(_where(counter))
                        .values(failures=SignInThrottle.failures + 1, last_failure_at=at)
                    )
            failures = connection.scalar(select(SignInThrottle.failures).where(_where(counter)))
            seconds = lock_seconds(counter.scope, failures or 0)
            if seconds:
                connection.execute(
                    update(SignInThrottle)
                    .where(_where(counter))
                    .values(locked_until=at + dt.timedelta(seconds=seconds))
                )


def clear(counters: Iterable[Counter]) -> None:
    """Forget the failures of ``counters`` (after a successful sign-in)."""
    counters = list(counters)
    if not counters:
        return
    with db.engine.begin() as connection:
        connection.execute(delete(SignInThrottle).where(or_(*(_where(c) for c in counters))))


def forget_old() -> int:
    """Delete rows with no failure and no lock for ``SIGNIN_FORGET_AFTER_S``; how many."""
    at = now()
    cut = at - dt.timedelta(seconds=int(current_app.config["SIGNIN_FORGET_AFTER_S"]))
    with db.engine.begin() as connection:
        return connection.execute(
            delete(SignInThrottle).where(
                SignInThrottle.last_failure_at < cut,
                or_(SignInThrottle.locked_until.is_(None), SignInThrottle.locked_until < at),
            )
        ).rowcount
