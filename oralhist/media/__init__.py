"""Media files: content-addressed storage (``storage``), the one mutagen adapter
(``probe``), document attachments (``attachments``). Pure Python: no Flask, no database."""
