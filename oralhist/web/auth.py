"""Sign up, sign in, sign out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required, login_user, logout_user

from ..access import forget_viewer
from ..errors import OralHistError, ValidationError
from ..services import accounts
from .helpers import form_errors

bp = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str:
    """Only same-site relative paths are followed after sign-in."""
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("main.home")


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = request.form
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
        return redirect(safe_next(request.args.get("next")))
    return render_template("auth/signup.html", errors=errors)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "POST":
        user = accounts.authenticate(request.form.get("email"), request.form.get("password"))
        if user is None:
            return render_template(
                "auth/login.html", message="The email or the password is not right."
            ), 401
        login_user(user, remember=bool(request.form.get("remember")))
        forget_viewer()
        flash(f"Signed in as {user.display_name}.", "success")
        return redirect(safe_next(request.args.get("next")))
    return render_template("auth/login.html")


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    forget_viewer()
    flash("Signed out.", "info")
    return redirect(url_for("main.home"))
