"""Sign up, sign in, sign out.

Sign-in attempts are rate limited (``services/throttle.py``): per client address, and per
account for browsers not known to it. A browser that signed in to an account gets a signed
device cookie (``oh_device``: the account's e-mail, hashed, and a random nonce); with it the
owner's attempts are counted on that device instead of the account, so someone guessing the
password elsewhere cannot lock the owner out (OWASP "device cookies"). Signing out ends every
session of the account (the session generation moves on), so a copied cookie stops working.
"""

from __future__ import annotations

import hashlib
import secrets

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..access import forget_viewer
from ..errors import OralHistError, TooManyAttempts, ValidationError
from ..services import accounts, throttle
from ..urls import safe_next
from .helpers import form_errors

bp = Blueprint("auth", __name__)

DEVICE_COOKIE = "oh_device"


def _device_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="oralhist-device")


def _email_digest(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


def known_device(email: object) -> str | None:
    """The nonce of this browser's device cookie when it signed in to ``email`` before."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw or not isinstance(email, str):
        return None
    days = int(current_app.config["SIGNIN_DEVICE_COOKIE_DAYS"])
    try:
        data = _device_serializer().loads(raw, max_age=days * 86400)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("e") != _email_digest(email):
        return None
    nonce = data.get("n")
    return nonce if isinstance(nonce, str) else None


def _sign_in_counters(email: object) -> list[throttle.Counter]:
    """What an attempt is counted against: the address, and the device when this browser is
    known to the account, else the account."""
    counters = [throttle.Counter("address", request.remote_addr or "unknown")]
    device = known_device(email)
    if device is not None:
        counters.append(throttle.Counter("device", device))
    elif isinstance(email, str) and email.strip():
        counters.append(throttle.Counter("account", email))
    return counters


def _remember_device(response, email: str):
    """Give this browser a device cookie for ``email`` (a fresh nonce each sign-in)."""
    days = int(current_app.config["SIGNIN_DEVICE_COOKIE_DAYS"])
    value = _device_serializer().dumps({"e": _email_digest(email), "n": secrets.token_hex(16)})
    response.set_cookie(
        DEVICE_COOKIE,
        value,
        max_age=days * 86400,
        httponly=True,
        samesite="Lax",
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
    )
    return response


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = request.form
        # Every sign-up attempt counts against the address: each costs a password hash and
        # can probe which e-mails have accounts.
        counters = [throttle.Counter("signup", request.remote_addr or "unknown")]
        throttle.check(counters)
        throttle.fail(counters)
        try:
            if form.get("password") != form.get("password_again"):
                errors["password_again"] = "does not match the password"
                raise ValidationError("The two passwords differ.", fields=errors)
            user = accounts.create_user(
                form.get("email", ""), form.get("password", ""), name=form.get("name", "")
            )
        except OralHistError as exc:
            errors = form_errors(exc) if hasattr(exc, "details") else {}
            errors = errors or {"email": exc.message}
            return render_template("auth/signup.html", errors=errors, message=exc.message), (
                exc.status
            )
        login_user(user)
        forget_viewer()
        flash("Welcome. Your researcher account is ready.", "success")
        return redirect(safe_next(url_for("main.home"), request.args.get("next") or ""))
    return render_template("auth/signup.html", errors=errors)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "POST":
        email = request.form.get("email")
        counters = _sign_in_counters(email)
        try:
            throttle.check(counters)  # before the password is hashed
        except TooManyAttempts as exc:
            return (
                render_template("auth/login.html", message=exc.message),
                429,
                {"Retry-After": str(exc.retry_after)},
            )
        user = accounts.authenticate(email, request.form.get("password"))
        if user is None:
            throttle.fail(counters)
            return render_template(
                "auth/login.html", message="The email or the password is not right."
            ), 401
        throttle.clear(c for c in counters if c.scope != "address")
        login_user(user, remember=bool(request.form.get("remember")))
        forget_viewer()
        flash(f"Signed in as {user.display_name}.", "success")
        return _remember_device(
            redirect(safe_next(url_for("main.home"), request.args.get("next") or "")), user.email
        )
    return render_template("auth/login.html")


@bp.post("/logout")
@login_required
def logout():
    """Sign out: every session of this account ends (copies of the cookie included)."""
    accounts.end_sessions(current_user._get_current_object())
    logout_user()
    forget_viewer()
    flash("Signed out.", "info")
    return redirect(url_for("main.home"))
