"""Accounts and personal API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from .types import ROLES, UTCDateTime, check_in, created_at, intpk, str255


class User(UserMixin, db.Model):
    __tablename__ = "user"
    __table_args__ = (CheckConstraint(check_in("role", ROLES), name="role"),)

    id: Mapped[intpk]
    #: Stored lower-cased, so uniqueness is case-insensitive on every database.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str255] = mapped_column(default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default="researcher")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[created_at]
    #: Part of the identity a session (and a "keep me signed in" cookie) carries: signing out
    #: and changing the password move it on, so every cookie issued before stops working,
    #: copies included (``get_id`` / the user loader compare it).
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user", cascade="all, delete")

    @staticmethod
    def normalise_email(email: str) -> str:
        return email.strip().lower()

    def set_password(self, password: str, method: str = "scrypt") -> None:
        """Hash with ``method`` (werkzeug's scrypt by default: memory-hard, current)."""
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def get_id(self) -> str:  # Flask-Login: what the session stores
        return f"{self.id}:{self.session_generation or 0}"

    @staticmethod
    def parse_session_id(value: str) -> tuple[int, int] | None:
        """(user id, generation) from what ``get_id`` returned; None for anything else
        (sessions made before generations existed end: their value has no generation)."""
        ident, sep, generation = value.partition(":")
        if not sep or not ident.isdigit() or not generation.isdigit():
            return None
        return int(ident), int(generation)

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    @property
    def display_name(self) -> str:
        return self.name or self.email

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class ApiToken(db.Model):
    """A personal token for ``Authorization: Bearer``; only its sha256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str255] = mapped_column(default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The first characters, shown on the account page so a token can be recognised.
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[created_at]
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)

    user: Mapped[User] = relationship(back_populates="tokens")

    PREFIX = "oh_"

    @classmethod
    def generate(cls, user: User, name: str = "") -> tuple[ApiToken, str]:
        """A new token row and the secret, which is shown once and never stored."""
        secret = cls.PREFIX + secrets.token_urlsafe(32)
        token = cls(user=user, name=name, token_hash=cls.hash(secret), prefix=secret[:10])
        return token, secret

    @staticmethod
    def hash(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()


class SignInThrottle(db.Model):
    """Failed sign-ins counted per account, per client address and per device cookie
    (``services.throttle``). One row per (scope, key); ``key`` is a sha256, so no address or
    email is stored in the clear. A table, not Flask-Limiter: it needs no Redis or Memcached,
    and every gunicorn worker and host sees the same counts through the database."""

    __tablename__ = "sign_in_throttle"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[intpk]
    scope: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
