"""Typed SQLAlchemy models, one module per aggregate."""

from .access import AccessRequest, AuditEvent, Notification
from .catalogue import Collection, Interview, Participant, Person
from .document import DismissedSuggestion, Document, DocumentCreator, Mention
from .job import Job
from .media import FixityCheck, Recording
from .search import IndexTask
from .transcript import IndexPoint, Segment, Speaker, Transcript
from .user import ApiToken, SignInThrottle, User

__all__ = [
    "AccessRequest",
    "ApiToken",
    "AuditEvent",
    "Collection",
    "DismissedSuggestion",
    "Document",
    "DocumentCreator",
    "FixityCheck",
    "IndexPoint",
    "IndexTask",
    "Interview",
    "Job",
    "Mention",
    "Notification",
    "Participant",
    "Person",
    "Recording",
    "Segment",
    "SignInThrottle",
    "Speaker",
    "Transcript",
    "User",
]
