"""Use cases. Each takes the acting ``Viewer`` explicitly, checks the policy, raises domain
errors, and flushes; the caller (a view or a CLI command) commits once, at the edge."""
