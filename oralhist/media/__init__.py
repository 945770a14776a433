"""Media files: content-addressed storage behind the ``Storage`` protocol (``storage``; an
in-memory one in ``memory``), the one mutagen adapter (``probe``), document attachments
(``attachments``). No database; Flask only inside ``Storage.send``, which builds the response."""
