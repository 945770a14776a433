"""Forced alignment of transcripts to their audio, and offline machine transcription.

``anchoring`` (pure) finds where transcript words are certainly heard; ``pipeline`` aligns a
whole interview between those anchors and marks what does not match; ``engine`` is the
interface a speech engine implements and ``sphinx`` the one that ships (PocketSphinx 5, US
English in the wheel, other languages from a configured model folder); ``audio`` is this
package's one door to decoding. ``service`` turns a result into a proposed transcript version
with its provenance, and ``jobs`` runs both as background jobs.
"""
