"""Bulk export and import of whole archives: ``oralhist export`` and ``oralhist import``.

The package has one module per concern: ``manifest`` (the format: its constants, keys and the
plan's data classes), ``export`` (``export_archive``), ``planner`` (``plan_import``: validation,
no writes) and ``apply`` (``apply_import``: writing a valid plan).

**The archive folder.** ``export_archive`` writes a folder that a person can read and another
oralhist can import::

    manifest.json                 what is in the archive (format below)
    README.txt                    a short description of this layout
    transcripts/<accession>.vtt   current transcript version (.txt when untimed, .json when
                                  neither reads back identically, e.g. mixed timed/untimed)
    transcripts/<accession>.v<N>.vtt   each earlier version N, in the same way
    media/<sha256>                recordings and document attachments (with --include-media),
                                  named by the sha256 of their bytes, verified while copying

The manifest (``FORMAT``, ``FORMAT_VERSION``) holds ``collections`` (slug, title,
description), ``people`` (key, name, sort_name, dates, biography), ``interviews`` (the
catalogue fields of the API, ``collection`` by slug, ``participants`` by person key, and per
interview its ``recordings``, ``transcript`` with ``speakers`` and ``index_points``, and
``transcript_history``: the earlier versions, oldest first, each described like ``transcript``;
every version also gives its ``version`` number and ``created_at``),
``documents`` (key, catalogue fields, ``creators`` by person key, ``file``) and ``mentions``
(document key, interview accession, start_ms, end_ms, note). ``docs/manifest-example.json``
is a documented, hand-written example.

**Importing** (``plan_import`` then ``apply_import``) is in two separate steps:

1. ``plan_import`` validates *everything* and writes nothing: JSON syntax (with line and
   column), unknown keys, every field by the same rules as the forms, file paths (missing,
   outside the folder, not a file), accessions already used in this archive or twice in the
   manifest, references between items, each transcript parsed with ``parse_transcript`` and
   each recording probed with ``probe_audio`` (and hashed against its ``sha256``). Every
   problem is collected with the item and field it concerns (``ManifestProblems``).
2. ``apply_import`` writes the valid plan through the ordinary services (``catalogue``,
   ``recordings``, ``transcripts``, ``documents``, ``mentions``), flushing but never
   committing. The caller runs it in one unit of work (``transaction.unit_of_work``): on
   any failure the transaction is rolled back and the files the import stored that no row
   uses are removed again (``transaction.on_rollback``).

An import stores an interview's versions in the order of their ``version`` numbers (without
them: the history in its order, then the current one), so they are numbered 1, 2, ... again;
the one the manifest's ``transcript`` names stays current, even when a newer one exists (an
older version had been restored), and each keeps its ``created_at`` when the manifest gives
one.

A hand-written manifest may leave out almost everything: only an interview's ``title`` is
required; a recording may be ``{"file": "tape1.wav", "label": "Tape 1"}`` and a transcript
``{"file": "tape1.vtt"}`` (the format is detected). People and collections are matched to
existing rows (a person by exact name, a collection by slug, then by title) rather than
duplicated; a participant or creator may name a person directly instead of a key. Keys that
start with ``_`` are comments and ignored.

Both directions act as an archivist without an account (``ARCHIVIST``), like the sample
loader, and see everything: an export contains restricted and closed material.
"""
