"""Interoperability: the archive as other systems read it (OAI-PMH metadata crosswalks,
IIIF Presentation 3 manifests, schema.org JSON-LD). Pure builders: the web layer
(``web/oai.py``, ``web/iiif.py``, ``web/discovery.py``) loads, checks access and calls them."""
