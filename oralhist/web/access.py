"""Access pages: the request form and panel on an interview, "My requests", the archivists'
queue and request pages, and the audit log (page and CSV export)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator, Mapping
from typing import Any

import click
from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask.cli import with_appcontext
from sqlalchemy import or_, select

from ..access import current_viewer, now, policy, require, workflow
from ..errors import AccessDenied, OralHistError, ValidationError
from ..extensions import db
from ..models import AccessRequest, AuditEvent, Interview, User
from ..models.types import REQUEST_STATUSES
from ..services import access_requests
from ..services.catalogue import get_interview
from ..services.fields import Fields, record_id
from ..transaction import abandon
from ..urls import safe_next
from .catalogue import interview_panel
from .helpers import form_errors, paginate

bp = Blueprint("access", __name__)
bp.cli.help = "Access requests: housekeeping of grants (see `oralhist access expire --help`)."

INTENDED_USE_LABELS = [(u, u.capitalize()) for u in access_requests.INTENDED_USES]
SCOPE_LABELS = [("listen", "Listen"), ("listen_download", "Listen and download")]


def _signed_in_viewer():
    viewer = current_viewer()
    require(viewer.signed_in, "Please sign in first.")
    return viewer


def _archivist():
    viewer = _signed_in_viewer()
    require(policy.can_decide_requests(viewer), "Only archivists decide access requests.")
    return viewer


def waiting(since: dt.datetime, at: dt.datetime) -> str:
    """'3 days', '5 hours', '12 minutes': how long a request has waited."""
    seconds = max(0, int((at - since).total_seconds()))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return "less than a minute"


@bp.app_template_global("access_status")
def access_status(access_request: AccessRequest) -> str:
    return workflow.effective_status(access_request, now())


# --- the interview page's side panel -------------------------------------------------------


@interview_panel
def access_panel(interview: Interview, viewer) -> dict[str, Any]:
    at = now()
    mine = None
    if viewer.signed_in:
        mine = access_requests.latest_request(viewer.user_id, interview.id)
    return {
        "access_request": mine,
        "access_can_request": policy.can_request_access(viewer, interview, at),
        "access_can_listen": policy.can_listen(viewer, interview, at),
        "access_restricted": policy.is_on_request(interview, at),
        "access_sentence": policy.level_sentence(interview, at),
        "access_actions": workflow.allowed_actions(viewer, mine, at) if mine else [],
        "intended_uses": INTENDED_USE_LABELS,
        "access_form": None,
        "access_errors": {},
    }


# --- asking --------------------------------------------------------------------------------


def _request_form(interview: Interview, form=None, errors=None, message=None, status=200):
    panel = access_panel(interview, current_viewer())
    return render_template(
        "access/request_form.html",
        interview=interview,
        form=form,
        errors=errors or {},
        message=message,
        **{k: v for k, v in panel.items() if k not in ("access_form", "access_errors")},
    ), status


@bp.route("/interviews/<int:interview_id>/request-access", methods=["GET", "POST"])
def request_access(interview_id: int):
    viewer = current_viewer()
    interview = get_interview(interview_id, viewer)
    if request.method == "GET":
        require(viewer.signed_in, "Please sign in to request access.")
        return _request_form(interview)
    try:
        created = access_requests.create_request(viewer, interview, request.form)
    except ValidationError as exc:
        return _request_form(interview, request.form, form_errors(exc), exc.message, exc.status)
    except AccessDenied:
        raise
    except OralHistError as exc:
        return _request_form(interview, request.form, {}, exc.message, exc.status)
    flash(
        f"Your request {created.id} is sent. You will be told of the decision here and by e-mail.",
        "success",
    )
    return redirect(url_for("catalogue.interview", interview_id=interview.id))


# --- the researcher's view -----------------------------------------------------------------


@bp.get("/access/mine")
def my_requests():
    viewer = _signed_in_viewer()
    viewer = current_viewer()
    stmt = access_requests.request_query(viewer, {"mine": "1", **request.args.to_dict()})
    return render_template(
        "access/mine.html",
        page=paginate(stmt),
        audible=access_requests.audible_interviews(viewer),
        statuses=REQUEST_STATUSES,
        status=request.args.get("status", ""),
    )


# --- one request ---------------------------------------------------------------------------


@bp.get("/access/requests/<int:request_id>")
def show_request(request_id: int):
    viewer = _signed_in_viewer()
    found = access_requests.get_request(request_id, viewer)
    history = []
    if policy.can_see_requester_history(viewer):
        history = access_requests.history_of([found.requester_id])[found.requester_id]
    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.object_type == "access_request", AuditEvent.object_id == found.id)
        .order_by(AuditEvent.id)
    ).all()
    return render_template(
        "access/request.html",
        req=found,
        history=history,
        events=events,
        actions=workflow.allowed_actions(viewer, found, now()),
        scopes=SCOPE_LABELS,
    )


@bp.post("/access/requests/<int:request_id>/<action>")
def act(request_id: int, action: str):
    viewer = _signed_in_viewer()
    found = access_requests.get_request(request_id, viewer)
    default = (
        url_for("access.queue")
        if policy.can_decide_requests(viewer)
        else url_for("access.my_requests")
    )
    target = safe_next(default)
    try:
        access_requests.decide(viewer, found, action, request.form)
    except ValidationError as exc:
        abandon()
        flash(f"Request {request_id}: {exc.message}", "error")
        return redirect(target)
    flash(f"Request {request_id} is {access_status(found)}.", "success")
    return redirect(target)


# --- the archivists' queue -----------------------------------------------------------------


@bp.get("/access/queue")
def queue():
    viewer = _archivist()
    args = request.args.to_dict()
    args.setdefault("status", "pending")
    if args["status"] == "all":
        args["status"] = ""
    stmt = access_requests.request_query(viewer, args)
    page = paginate(stmt)
    at = now()
    interviews = db.session.scalars(
        select(Interview)
        .where(Interview.id.in_(select(AccessRequest.interview_id).distinct()))
        .order_by(Interview.title)
    ).all()
    return render_template(
        "access/queue.html",
        page=page,
        history=access_requests.history_of([r.requester_id for r in page.items]),
        waiting={r.id: waiting(r.created_at, at) for r in page.items},
        actions={r.id: workflow.allowed_actions(viewer, r, at) for r in page.items},
        statuses=REQUEST_STATUSES,
        status=request.args.get("status", "pending"),
        interview_filter=request.args.get("interview", ""),
        interviews=interviews,
        scopes=SCOPE_LABELS,
    )


@bp.post("/access/queue/bulk")
def bulk():
    viewer = _archivist()
    ids = [i for i in map(record_id, request.form.getlist("ids")) if i is not None]
    action = request.form.get("action", "")
    target = safe_next(url_for("access.queue"))
    try:
        done = access_requests.decide_many(viewer, ids, action, request.form)
    except ValidationError as exc:
        abandon()
        flash(f"Nothing was changed: {exc.message}", "error")
        return redirect(target)
    verb = workflow.MOVES_BY_ACTION[action].verb
    flash(f"{len(done)} request{'s' if len(done) != 1 else ''} {verb}.", "success")
    return redirect(target)


# --- the audit log -------------------------------------------------------------------------


def audit_query(args: Mapping[str, Any]):
    """Audit events filtered by ``action`` (exact, or a prefix ending in ``.``/``*``),
    ``user`` (id or e-mail), ``object_type``, ``object_id``, ``interview`` (every event
    about one interview: its own, and those of its recordings, requests and passage links,
    which carry its id), ``date_from``/``date_to`` (inclusive days, UTC); newest first."""
    fields = Fields(args)
    fields.string("action", max_length=60)
    fields.string("user", max_length=254)
    fields.string("object_type", max_length=40)
    fields.integer("object_id", minimum=0)
    fields.integer("interview", minimum=1)
    fields.date("date_from")
    fields.date("date_to")
    values = fields.check()
    stmt = select(AuditEvent)
    action = values.get("action") or ""
    if action.endswith(("*", ".")):
        prefix = action.rstrip("*")
        stmt = stmt.where(AuditEvent.action.startswith(prefix, autoescape=True))
    elif action:
        stmt = stmt.where(AuditEvent.action == action)
    user = values.get("user") or ""
    if user.isdigit():
        stmt = stmt.where(AuditEvent.user_id == (record_id(user) or 0))  # 0 names no one
    elif user:
        ids = select(User.id).where(
            or_(User.email == User.normalise_email(user), User.name == user)
        )
        stmt = stmt.where(AuditEvent.user_id.in_(ids))
    if values.get("object_type"):
        stmt = stmt.where(AuditEvent.object_type == values["object_type"])
    if values.get("object_id") is not None:
        stmt = stmt.where(AuditEvent.object_id == values["object_id"])
    if values.get("interview") is not None:
        iid = values["interview"]
        stmt = stmt.where(
            or_(
                (AuditEvent.object_type == "interview") & (AuditEvent.object_id == iid),
                AuditEvent.details["interview_id"].as_integer() == iid,
            )
        )
    if values.get("date_from"):
        d = values["date_from"]
        stmt = stmt.where(AuditEvent.at >= dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC))
    if values.get("date_to"):
        d = values["date_to"] + dt.timedelta(days=1)
        stmt = stmt.where(AuditEvent.at < dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC))
    return stmt.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


@bp.get("/access/audit")
def audit_log():
    _archivist()
    stmt = audit_query(request.args)
    actions = db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action))
    return render_template(
        "access/audit.html", page=paginate(stmt), actions=list(actions), args=request.args
    )


def _csv_safe(*cells: Any) -> list[Any]:
    """Cells a spreadsheet will not run as formulas (a reason may start with '=')."""
    return [
        "'" + c if isinstance(c, str) and c[:1] in ("=", "+", "-", "@", "\t", "\r") else c
        for c in cells
    ]


CSV_COLUMNS = ("id", "at", "user_id", "user_email", "action", "object_type", "object_id", "ip")


@bp.get("/access/audit.csv")
def audit_csv():
    _archivist()
    stmt = audit_query(request.args)
    emails = dict(db.session.execute(select(User.id, User.email)).all())

    @stream_with_context
    def generate() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)

        def flush() -> str:
            text = buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            return text

        writer.writerow((*CSV_COLUMNS, "details"))
        yield flush()
        for event in db.session.scalars(stmt.execution_options(yield_per=500)):
            writer.writerow(
                _csv_safe(
                    event.id,
                    event.at.isoformat(),
                    event.user_id or "",
                    emails.get(event.user_id, ""),
                    event.action,
                    event.object_type,
                    "" if event.object_id is None else event.object_id,
                    event.ip,
                    json.dumps(event.details or {}, sort_keys=True, ensure_ascii=False),
                )
            )
            yield flush()

    name = f"oralhist-audit-{now():%Y%m%d-%H%M%S}.csv"
    return Response(
        generate(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# --- command line ---------------------------------------------------------------------------


@bp.cli.command("expire")
@with_appcontext
def expire_command() -> None:
    """Store 'expired' on approvals whose expiry date has passed, and tell the requesters."""
    from ..transaction import unit_of_work

    with unit_of_work():
        count = access_requests.expire_due()
    click.echo(f"{count} approval{'s' if count != 1 else ''} expired.")
