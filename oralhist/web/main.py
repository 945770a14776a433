"""Home page."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import select

from ..access import clauses, current_viewer
from ..extensions import db
from ..models import Collection, Interview
from ..services import consent

bp = Blueprint("main", __name__)


@bp.get("/")
def home():
    collections = db.session.scalars(select(Collection).order_by(Collection.title)).all()
    recent = db.session.scalars(
        select(Interview)
        .where(clauses.public_interviews_clause())
        .order_by(Interview.published_at.desc(), Interview.id.desc())
        .limit(6)
    ).all()
    return render_template(
        "main/home.html",
        collections=collections,
        recent=consent.shown_interviews(current_viewer(), recent),
    )
