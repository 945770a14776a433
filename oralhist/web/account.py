"""The signed-in user's own pages: password, API tokens, notifications."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user
from sqlalchemy import select

from ..access import now
from ..errors import ValidationError
from ..extensions import db
from ..models import ApiToken, Notification
from ..services import accounts
from .helpers import form_errors

bp = Blueprint("account", __name__, url_prefix="/account")


def _render(errors=None, new_token=None, status=200):
    tokens = db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == current_user.id).order_by(ApiToken.id)
    ).all()
    notifications = db.session.scalars(
        select(Notification)
        .where(Notification.user_id == current_user.id)
        .order_by(Notification.id.desc())
        .limit(50)
    ).all()
    return render_template(
        "account/index.html",
        tokens=tokens,
        notifications=notifications,
        errors=errors or {},
        new_token=new_token,
    ), status


@bp.get("/")
@login_required
def index():
    return _render()


@bp.post("/password")
@login_required
def change_password():
    try:
        if request.form.get("new_password") != request.form.get("new_password_again"):
            raise ValidationError(
                "The two new passwords differ.", fields={"new_password_again": "does not match"}
            )
        accounts.change_password(
            current_user,
            request.form.get("current_password", ""),
            request.form.get("new_password", ""),
        )
    except ValidationError as exc:
        return _render(errors=form_errors(exc), status=exc.status)
    # The change ended every session (the generation moved on); this one continues.
    login_user(current_user._get_current_object())
    flash("Your password is changed. Every other session is signed out.", "success")
    return redirect(url_for("account.index"))


@bp.post("/tokens")
@login_required
def create_token():
    try:
        secret = accounts.create_token(current_user, request.form.get("name", ""))
    except ValidationError as exc:
        return _render(errors=form_errors(exc), status=exc.status)
    flash("Copy your new token now: it is shown only once.", "success")
    return _render(new_token=secret)


@bp.post("/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    accounts.revoke_token(current_user, token_id)
    flash("Token revoked.", "info")
    return redirect(url_for("account.index"))


@bp.post("/notifications/read")
@login_required
def read_notifications():
    for notification in db.session.scalars(
        select(Notification).where(
            Notification.user_id == current_user.id, Notification.read_at.is_(None)
        )
    ):
        notification.read_at = now()
    return redirect(url_for("account.index"))
