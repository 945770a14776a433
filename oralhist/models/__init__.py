"""Typed SQLAlchemy models, one module per aggregate."""

from .access import AccessRequest, AuditEvent, Notification
from .catalogue import Collection, Interview, Participant, Person
from .consent import Redaction, ReleaseAgreement
from .deposit import DepositJob, StagedAudio
from .derivative import Derivative
from .document import DismissedSuggestion, Document, DocumentCreator, Mention
from .job import Job
from .media import FixityCheck, Recording
from .oai import OaiRecord
from .search import IndexTask
from .speaker_merge import SpeakerMerge
from .transcript import IndexPoint, Segment, Speaker, Transcript
from .user import ApiToken, SignInThrottle, User

__all__ = [
    "AccessRequest",
    "ApiToken",
    "AuditEvent",
    "Collection",
    "DepositJob",
    "Derivative",
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
    "OaiRecord",
    "Participant",
    "Person",
    "Recording",
    "Redaction",
    "ReleaseAgreement",
    "Segment",
    "SignInThrottle",
    "Speaker",
    "SpeakerMerge",
    "StagedAudio",
    "Transcript",
    "User",
]
