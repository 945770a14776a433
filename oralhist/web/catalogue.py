"""Catalogue pages: collections, people and interviews."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..access import clauses, current_viewer, now, policy, require
from ..errors import OralHistError, ValidationError
from ..extensions import db
from ..models import Collection, Interview, Person
from ..models.types import ACCESS_LEVELS, PARTICIPANT_ROLES
from ..services import catalogue, consent
from ..services.fields import record_id
from .helpers import form_errors, paginate

bp = Blueprint("catalogue", __name__)

#: Other areas (recordings, transcripts, documents, access) add what the interview page
#: shows by registering a function ``(interview, viewer) -> dict`` of template variables.
INTERVIEW_PANELS: list[Callable[[Interview, Any], dict]] = []


def interview_panel(fn: Callable[[Interview, Any], dict]) -> Callable:
    INTERVIEW_PANELS.append(fn)
    return fn


PARTICIPANT_FIELDS = ("participant_person", "participant_name", "participant_role")


def _form_data(form=None) -> dict[str, Any]:
    """Form fields as the services expect them (participants as a list of dicts).

    A participant row (``catalogue/_participants.html``) sends ``participant_person`` (the id
    the type-ahead chose), ``participant_name`` (what is typed) and ``participant_role``. A
    name typed without a chosen id, or changed after choosing, is a name to find or create;
    an empty row is skipped."""
    form = form if form is not None else request.form
    data: dict[str, Any] = {
        k: v for k, v in form.items() if k != "csrf_token" and k not in PARTICIPANT_FIELDS
    }
    if "participant_role" in form:
        people = form.getlist("participant_person")
        names = form.getlist("participant_name")
        roles = form.getlist("participant_role")
        rows = []
        for index, role in enumerate(roles):
            person_id = people[index].strip() if index < len(people) else ""
            name = " ".join(names[index].split()) if index < len(names) else ""
            if person_id and name and not _names_person(person_id, name):
                person_id = ""  # the chosen person's name was changed: a new name
            if person_id:
                rows.append({"person_id": person_id, "role": role})
            elif name:
                rows.append({"name": name, "role": role})
        data["participants"] = rows
    return data


def _names_person(person_id: str, name: str) -> bool:
    """Does ``name`` still name the person ``person_id`` (as the form showed it)?"""
    number = record_id(person_id)
    person = db.session.get(Person, number) if number is not None else None
    if person is None:
        return True  # the service names the unknown id
    return name.lower() in (person.name.lower(), (person.sort_name or "").lower())


# --- collections ---------------------------------------------------------------------------


@bp.get("/collections")
def collections():
    counts = dict(
        db.session.execute(
            select(Interview.collection_id, func.count())
            .where(clauses.public_interviews_clause())
            .group_by(Interview.collection_id)
        ).all()
    )
    items = db.session.scalars(select(Collection).order_by(Collection.title)).all()
    return render_template("catalogue/collections.html", collections=items, counts=counts)


@bp.get("/collections/<slug>")
def collection(slug: str):
    found = catalogue.get_collection(slug)
    stmt, _ = catalogue.interview_query(
        current_viewer(), {"collection": str(found.id), "sort": request.args.get("sort", "title")}
    )
    page = paginate(stmt)
    facts = catalogue.list_facts(page.items, current_viewer())
    page.items = consent.shown_interviews(current_viewer(), page.items)
    return render_template(
        "catalogue/collection.html",
        collection=found,
        page=page,
        facts=facts,
        level_of=lambda i: policy.effective_level(i, now()),
    )


@bp.route("/collections/new", methods=["GET", "POST"])
@bp.route("/collections/<slug>/edit", methods=["GET", "POST"])
def edit_collection(slug: str | None = None):
    viewer = current_viewer()
    require(policy.can_edit_catalogue(viewer), "Only contributors and archivists edit collections.")
    found = catalogue.get_collection(slug) if slug else None
    return _form_page(
        "catalogue/collection_form.html",
        {"collection": found},
        save=lambda data: catalogue.save_collection(viewer, data, found),
        saved_message="Collection saved.",
        next_url=lambda saved: url_for("catalogue.collection", slug=saved.slug),
    )


def _form_page(template: str, context: dict, *, save, saved_message: str, next_url):
    """A create/edit form: GET shows it; POST saves the form through ``save``, commits once,
    and redirects to ``next_url(saved)``; a domain error shows the form again with the
    messages, under the error's 4xx status, and nothing is saved."""
    if request.method == "POST":
        try:
            saved = save(_form_data())
        except OralHistError as exc:
            return render_template(
                template,
                form=request.form,
                errors=form_errors(exc) or {"_": exc.message},
                message=exc.message,
                **context,
            ), exc.status
        flash(saved_message, "success")
        return redirect(next_url(saved))
    return render_template(template, form=None, errors={}, **context)


# --- people --------------------------------------------------------------------------------


@bp.get("/people")
def people():
    q = request.args.get("q", "").strip()[:200]
    return render_template(
        "catalogue/people.html",
        page=paginate(catalogue.list_people(q, current_viewer())),
        q=q,
    )


@bp.get("/people/<int:person_id>")
def person(person_id: int):
    viewer = current_viewer()
    found = catalogue.get_person(person_id, viewer)
    roles: dict[int, list[str]] = {}
    for participation in found.participations:
        roles.setdefault(participation.interview_id, []).append(participation.role)
    interviews = [
        i
        for i in db.session.scalars(select(Interview).where(Interview.id.in_(roles)))
        if policy.can_view_record(viewer, i) and policy.may_name_participant(viewer, i, found.id)
    ]
    others: list[Person] = []
    merge_q = request.args.get("merge_q", "").strip()[:200]
    can_merge = policy.can_merge_people(viewer)
    if can_merge:
        others = catalogue.merge_candidates(found, merge_q)
    return render_template(
        "catalogue/person.html",
        person=found,
        interviews=consent.shown_interviews(viewer, interviews),
        roles=roles,
        can_merge=can_merge,
        others=others,
        merge_q=merge_q,
        merge_limit=catalogue.MERGE_CANDIDATES,
    )


@bp.route("/people/new", methods=["GET", "POST"])
@bp.route("/people/<int:person_id>/edit", methods=["GET", "POST"])
def edit_person(person_id: int | None = None):
    viewer = current_viewer()
    require(policy.can_edit_catalogue(viewer), "Only contributors and archivists edit people.")
    found = catalogue.get_person(person_id, viewer) if person_id else None
    return _form_page(
        "catalogue/person_form.html",
        {"person": found},
        save=lambda data: catalogue.save_person(viewer, data, found),
        saved_message="Person saved.",
        next_url=lambda saved: url_for("catalogue.person", person_id=saved.id),
    )


@bp.post("/people/<int:person_id>/merge")
def merge_person(person_id: int):
    """Merge the person named in the form (the duplicate) into this one."""
    viewer = current_viewer()
    keep = catalogue.get_person(person_id)
    duplicate_id = request.form.get("duplicate_id", "")
    if record_id(duplicate_id) is None:
        raise ValidationError("Choose the duplicate to merge into this person.")
    duplicate = catalogue.get_person(record_id(duplicate_id))
    name = duplicate.name
    catalogue.merge_people(viewer, keep, duplicate)
    flash(f"{name} is merged into {keep.name}.", "success")
    return redirect(url_for("catalogue.person", person_id=keep.id))


# --- interviews ----------------------------------------------------------------------------


@bp.get("/interviews")
def interviews():
    viewer = current_viewer()
    stmt, values = catalogue.interview_query(viewer, request.args)
    page = paginate(stmt.options(selectinload(Interview.collection)))
    facts = catalogue.list_facts(page.items, viewer)
    page.items = consent.shown_interviews(viewer, page.items)
    return render_template(
        "catalogue/interviews.html",
        page=page,
        facts=facts,
        level_of=lambda i: policy.effective_level(i, now()),
        values=values,
        collections=db.session.scalars(select(Collection).order_by(Collection.title)).all(),
        access_levels=ACCESS_LEVELS,
        sorts=catalogue.SORTS,
    )


@bp.get("/interviews/<int:interview_id>")
def interview(interview_id: int):
    viewer = current_viewer()
    found = catalogue.get_interview(interview_id, viewer)
    context: dict[str, Any] = {}
    for panel in INTERVIEW_PANELS:
        context.update(panel(found, viewer))
    return render_template(
        "catalogue/interview.html",
        # as this viewer may see it: anonymised names as their labels (``consent``)
        interview=consent.public_view(found, consent.redactor_for(viewer, found)),
        level_sentence=policy.level_sentence(found, now()),
        effective_level=policy.effective_level(found, now()),
        can_edit=policy.can_edit_record(viewer, found),
        can_manage=policy.can_manage(viewer, found),
        **context,
    )


def _interview_form(found: Interview | None, form=None, errors=None, message=None, status=200):
    return render_template(
        "catalogue/interview_form.html",
        interview=found,
        form=form,
        errors=errors or {},
        message=message,
        collections=db.session.scalars(select(Collection).order_by(Collection.title)).all(),
        access_levels=ACCESS_LEVELS,
        participant_roles=PARTICIPANT_ROLES,
    ), status


@bp.route("/interviews/new", methods=["GET", "POST"])
def new_interview():
    viewer = current_viewer()
    require(policy.can_create_interview(viewer), "Only contributors and archivists deposit.")
    if request.method == "POST":
        try:
            saved = catalogue.save_interview(viewer, _form_data())
        except OralHistError as exc:
            return _interview_form(None, request.form, form_errors(exc), exc.message, exc.status)
        flash(f"Draft {saved.accession} created.", "success")
        return redirect(url_for("catalogue.interview", interview_id=saved.id))
    return _interview_form(None)


@bp.route("/interviews/<int:interview_id>/edit", methods=["GET", "POST"])
def edit_interview(interview_id: int):
    viewer = current_viewer()
    found = catalogue.get_interview(interview_id, viewer)
    require(policy.can_edit_record(viewer, found), lambda: policy.edit_refusal(viewer, found))
    if request.method == "POST":
        data = _form_data()
        if "participants" not in data:
            data["participants"] = []
        try:
            catalogue.save_interview(viewer, data, found)
        except OralHistError as exc:
            return _interview_form(found, request.form, form_errors(exc), exc.message, exc.status)
        flash("Interview saved.", "success")
        return redirect(url_for("catalogue.interview", interview_id=found.id))
    return _interview_form(found)


@bp.post("/interviews/<int:interview_id>/publish")
def publish_interview(interview_id: int):
    viewer = current_viewer()
    found = catalogue.get_interview(interview_id, viewer)
    if request.form.get("action") == "unpublish":
        catalogue.unpublish(viewer, found)
        flash("The interview is a draft again.", "info")
    else:
        catalogue.publish(viewer, found)
        flash("The interview is published.", "success")
    return redirect(url_for("catalogue.interview", interview_id=found.id))
