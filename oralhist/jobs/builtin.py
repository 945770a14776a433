"""Job handlers of the archive itself (derivatives, waveforms: phase 2 of the jobs lane).

Other lanes register theirs in modules of their own, listed in ``HANDLER_MODULES``."""

from __future__ import annotations
