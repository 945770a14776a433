"""Telling people things: an in-app ``Notification`` row and an e-mail.

The row is added to the session like any other change (the caller's one commit stores it).
The e-mail is queued on the session and sent only *after* that commit succeeds, so a rolled-back
decision never mails anyone: by SMTP when ``MAIL_SMTP_HOST`` is configured, otherwise (or when
the SMTP server refuses it) written as an ``.eml`` file to ``OUTBOX_DIR`` (``instance/outbox/``),
so nothing is lost and tests can read it. Files are written to a temporary name and renamed,
so a reader never sees half a message.
"""

from __future__ import annotations

import itertools
import logging
import smtplib
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..access import now
from ..extensions import db
from ..models import Notification, User

log = logging.getLogger(__name__)

_PENDING_KEY = "oh_pending_mail"
_sequence = itertools.count()


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str
    sender: str
    smtp_host: str | None
    smtp_port: int
    outbox_dir: str


def link(endpoint: str, **values) -> tuple[str, str]:
    """(path for the in-app row, absolute URL for the mail) of a page. The absolute URL
    starts with the configured public base URL, never with the request's Host."""
    from urllib.parse import urlsplit

    from ..urls import public_url

    absolute = public_url(endpoint, **values)
    parts = urlsplit(absolute)
    return parts.path + (f"?{parts.query}" if parts.query else ""), absolute


def notify(user: User, message: str, url: str = "", *, subject: str, body: str) -> Notification:
    """Add an in-app notification for ``user`` and queue an e-mail (sent after commit)."""
    row = Notification(user_id=user.id, message=message[:2000], url=url[:500], created_at=now())
    db.session.add(row)
    config = current_app.config
    mail = Mail(
        to=user.email,
        subject=subject,
        body=body,
        sender=config.get("MAIL_FROM") or "oralhist@localhost",
        smtp_host=config.get("MAIL_SMTP_HOST") or None,
        smtp_port=int(config.get("MAIL_SMTP_PORT") or 25),
        outbox_dir=config["OUTBOX_DIR"],
    )
    db.session().info.setdefault(_PENDING_KEY, []).append(mail)
    return row


def archivists() -> list[User]:
    """Everyone who decides requests: active archivists and admins."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.role.in_(("archivist", "admin")), User.active.is_(True))
            .order_by(User.id)
        )
    )


def pending_mail() -> list[Mail]:
    """Mail queued in this transaction and not yet sent (for tests and debugging)."""
    return list(db.session().info.get(_PENDING_KEY, []))


# --- delivery ------------------------------------------------------------------------------


def build_message(mail: Mail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = mail.sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(now())
    message["Message-ID"] = make_msgid(domain="oralhist")
    message.set_content(mail.body)
    return message


def write_eml(message: EmailMessage, outbox_dir: str) -> Path:
    folder = Path(outbox_dir)
    folder.mkdir(parents=True, exist_ok=True)
    # Sortable: time, then a per-process sequence (the clock may stand still in tests).
    name = f"{now():%Y%m%dT%H%M%S%f}-{next(_sequence):08d}-{uuid.uuid4().hex[:8]}.eml"
    tmp = folder / f".{name}.tmp"
    tmp.write_bytes(bytes(message))
    final = folder / name
    tmp.replace(final)
    return final


def deliver(mail: Mail) -> None:
    """Send one mail by SMTP, or write it to the outbox (also when SMTP fails)."""
    message = build_message(mail)
    if mail.smtp_host:
        try:
            with smtplib.SMTP(mail.smtp_host, mail.smtp_port, timeout=10) as smtp:
                smtp.send_message(message)
            return
        except (OSError, smtplib.SMTPException):
            log.exception("SMTP delivery to %s failed; keeping it in the outbox", mail.to)
    write_eml(message, mail.outbox_dir)


def deliver_pending(session: Session) -> None:
    """Send the mail of a committed transaction (called by ``oralhist.transaction`` after
    the commit, so no mail tells of a change that was rolled back)."""
    for mail in session.info.pop(_PENDING_KEY, []):
        try:
            deliver(mail)
        except Exception:  # never let mail break a committed request
            log.exception("Could not deliver mail to %s", mail.to)


def drop_pending(session: Session, previous_transaction=None) -> None:
    """Forget the mail of a rolled-back transaction (called by ``oralhist.transaction``;
    ``previous_transaction`` is None for a rollback outside any transaction)."""
    # Only the outermost transaction's rollback drops the queue (a savepoint rollback
    # undoes only its own work, which queued nothing that survived).
    if previous_transaction is None or (
        previous_transaction.parent is None and not previous_transaction.nested
    ):
        session.info.pop(_PENDING_KEY, None)
