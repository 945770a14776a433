"""Accounts: sign-up, sign-in, passwords, roles and personal API tokens."""

from __future__ import annotations

import datetime as dt
import functools

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from ..access import now, policy, require
from ..access.policy import Viewer
from ..errors import Conflict, NotFound, ValidationError
from ..extensions import db
from ..models import ApiToken, User
from ..models.types import ROLES
from . import audit

MIN_PASSWORD = 10


def _hash_method() -> str:
    return current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")


@functools.cache
def _dummy_hash(method: str) -> str:
    """A made-up password's hash with ``method``, checked when the email is unknown, so that a
    failed sign-in takes the same time whether or not the account exists. Made at the first
    unknown email (with the method real accounts are hashed with), not at import: every
    command and worker process would pay a scrypt hash at start-up."""
    return generate_password_hash("not-a-real-password", method=method)


def normalise_email(raw: object) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ValidationError("Enter an email address.", fields={"email": "is required"})
    try:
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationError(f"Email: {exc}", fields={"email": str(exc)}) from None
    return User.normalise_email(result.normalized)


def check_password_strength(password: object, field: str = "password") -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise ValidationError(
            f"Choose a password of at least {MIN_PASSWORD} characters.",
            fields={field: f"at least {MIN_PASSWORD} characters"},
        )
    if len(password) > 1024:
        raise ValidationError("That password is too long.", fields={field: "too long"})
    return password


def create_user(email: str, password: str, *, role: str = "researcher", name: str = "") -> User:
    """Create an account. Sign-up always makes researchers; other roles come from an admin
    or ``oralhist create-user``."""
    email = normalise_email(email)
    check_password_strength(password)
    if role not in ROLES:
        raise ValidationError(f"role must be one of: {', '.join(ROLES)}", fields={"role": role})
    if len(name) > 255:
        raise ValidationError("name is too long (at most 255).", fields={"name": "too long"})
    if db.session.scalar(select(User).where(User.email == email)) is not None:
        raise Conflict("An account with that email exists already.", fields={"email": "taken"})
    user = User(email=email, name=name.strip(), role=role)
    user.set_password(password, _hash_method())
    db.session.add(user)
    db.session.flush()
    return user


def find_user(email: str) -> User:
    user = db.session.scalar(select(User).where(User.email == User.normalise_email(email)))
    if user is None:
        raise NotFound(f"There is no account for {email}.")
    return user


def authenticate(email: object, password: object) -> User | None:
    """The user for these credentials, or None; the caller says only 'email or password is
    wrong', never which."""
    if not isinstance(email, str) or not isinstance(password, str):
        return None
    user = db.session.scalar(select(User).where(User.email == User.normalise_email(email)))
    if user is None:
        check_password_hash(_dummy_hash(_hash_method()), password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    return user


def change_password(user: User, current: str, new: str) -> None:
    if not user.check_password(current or ""):
        raise ValidationError(
            "The current password is not right.", fields={"current_password": "not right"}
        )
    check_password_strength(new, "new_password")
    user.set_password(new, _hash_method())
    end_sessions(user)


def end_sessions(user: User) -> None:
    """End every session and "keep me signed in" cookie of ``user`` (sign-out, a password
    change): the session generation moves on, so cookies carrying the old one, copies
    included, no longer sign anyone in. Done in SQL, so two at once both count."""
    user.session_generation = User.session_generation + 1
    db.session.flush()
    db.session.refresh(user, ["session_generation"])


def set_role(viewer: Viewer, user: User, role: str) -> User:
    require(policy.can_administer(viewer), "Only administrators change roles.")
    if role not in ROLES:
        raise ValidationError(f"role must be one of: {', '.join(ROLES)}", fields={"role": role})
    if user.id == viewer.user_id and role != "admin":
        raise ValidationError("You cannot take the admin role from yourself.")
    old = user.role
    user.role = role
    db.session.flush()
    audit.record(viewer, "user.role", "user", user.id, old=old, new=role)
    return user


def set_active(viewer: Viewer, user: User, active: bool) -> User:
    require(policy.can_administer(viewer), "Only administrators disable accounts.")
    if user.id == viewer.user_id and not active:
        raise ValidationError("You cannot disable your own account.")
    user.active = active
    db.session.flush()
    audit.record(viewer, "user.active", "user", user.id, active=active)
    return user


def create_token(user: User, name: str = "") -> str:
    """Make a personal API token and return its secret (shown once)."""
    if len(name) > 255:
        raise ValidationError("The token name is too long.", fields={"name": "too long"})
    token, secret = ApiToken.generate(user, name.strip())
    db.session.add(token)
    db.session.flush()
    return secret


def revoke_token(user: User, token_id: int) -> None:
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound("There is no such token.")
    token.revoked = True
    db.session.flush()


#: How stale a token's "last used" time may get before it is written again.
LAST_USED_RESOLUTION = dt.timedelta(minutes=5)


def user_for_token(secret: str) -> User | None:
    """The active user a valid, unrevoked token belongs to (one query), else None.

    "Last used" is written at most every few minutes, in its own short transaction, so that a
    read request through the API neither holds the database's write lock nor depends on the
    request committing.
    """
    token = db.session.scalar(
        select(ApiToken)
        .options(joinedload(ApiToken.user))
        .where(ApiToken.token_hash == ApiToken.hash(secret))
    )
    if token is None or token.revoked or not token.user.active:
        return None
    at = now()
    if token.last_used_at is None or at - token.last_used_at > LAST_USED_RESOLUTION:
        with db.engine.begin() as connection:
            connection.execute(
                update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=at)
            )
        db.session.expire(token, ["last_used_at"])
    return token.user
