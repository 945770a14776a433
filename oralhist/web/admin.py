"""Administration: users and their roles."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from ..access import current_viewer, policy, require
from ..errors import NotFound
from ..extensions import db
from ..models import User
from ..models.types import ROLES
from ..services import accounts
from .helpers import paginate

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def _admins_only():
    require(policy.can_administer(current_viewer()), "Only administrators may do this.")


@bp.get("/users")
def users():
    q = request.args.get("q", "").strip().lower()
    stmt = select(User).order_by(User.email)
    if q:
        stmt = stmt.where(func.lower(User.email).contains(q) | func.lower(User.name).contains(q))
    return render_template("admin/users.html", page=paginate(stmt), roles=ROLES, q=q)


def _user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(f"There is no user {user_id}.")
    return user


@bp.post("/users/<int:user_id>/role")
def set_role(user_id: int):
    user = accounts.set_role(current_viewer(), _user(user_id), request.form.get("role", ""))
    flash(f"{user.email} is now {user.role}.", "success")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/active")
def set_active(user_id: int):
    active = request.form.get("active") == "1"
    user = accounts.set_active(current_viewer(), _user(user_id), active)
    flash(f"{user.email} is {'enabled' if active else 'disabled'}.", "success")
    return redirect(url_for("admin.users"))
