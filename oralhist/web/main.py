"""Home page."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import select

from ..access import current_viewer
from ..extensions import db
from ..models import Collection, Interview

bp = Blueprint("main", __name__)


@bp.get("/")
def home():
    viewer = current_viewer()
    collections = db.session.scalars(select(Collection).order_by(Collection.title)).all()
    recent = db.session.scalars(
        select(Interview)
        .where(Interview.status == "published")
        .order_by(Interview.published_at.desc(), Interview.id.desc())
        .limit(6)
    ).all()
    return render_template("main/home.html", collections=collections, recent=recent, viewer=viewer)
