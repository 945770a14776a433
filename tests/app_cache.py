"""What every test app would otherwise rebuild from scratch: compiled templates and URL rules.

Each test gets a fresh Flask app (its own database, media folder, index and configuration), so
no state can leak from one test to the next. Most of the cost of a fresh app is not that state
but compiling the same ~110 URL rules and the same ~40 templates again, about a third of a
typical test's CPU time (measured with cProfile over tests/access). The two caches below keep
what is compiled once per test process; both are keyed by everything the compiled result
depends on, so a changed template or rule is compiled again.

- Templates: Jinja's own ``BytecodeCache`` API, kept in memory (Jinja checks the template
  source's checksum before using a cached entry).
- URL rules: Werkzeug compiles two small URL-builder functions for every rule of every app
  (``Rule._compile_builder``: build an AST, ``compile()``, ``exec``). The function depends
  only on the rule's parsed parts, its defaults and whether unknown arguments are appended, so
  the same function object serves every app's copy of the rule. Werkzeug has no public hook
  for this; the wrapper checks the signature it wraps and steps aside (no cache, same
  behaviour) when Werkzeug changes it.

Used by tests only (``tests/conftest.py``); the application never loads this module.
"""

from __future__ import annotations

import inspect
from typing import Any

from jinja2 import BytecodeCache
from jinja2.bccache import Bucket
from werkzeug.routing.rules import Rule


class MemoryBytecodeCache(BytecodeCache):
    """Compiled templates shared by every app of this test process."""

    def __init__(self) -> None:
        self._store: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        data = self._store.get(bucket.key)
        if data is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._store[bucket.key] = bucket.bytecode_to_string()


TEMPLATES = MemoryBytecodeCache()


def share_compiled(app: Any) -> Any:
    """Give ``app`` the process's template bytecode cache; returns the app."""
    app.jinja_env.bytecode_cache = TEMPLATES
    return app


_BUILDERS: dict[tuple, Any] = {}
_original_compile_builder = Rule._compile_builder


def _builder_key(rule: Rule, append_unknown: bool) -> tuple:
    defaults = rule.defaults or {}
    converted = tuple(
        sorted(
            (name, type(rule._converters[name]).__name__, repr(value))
            for name, value in defaults.items()
            if name in rule._converters
        )
    )
    return (
        rule.rule,
        tuple(rule._trace),
        tuple(sorted((str(name), repr(value)) for name, value in defaults.items())),
        converted,
        append_unknown,
    )


def _cached_compile_builder(self: Rule, append_unknown: bool = True):
    key = _builder_key(self, append_unknown)
    builder = _BUILDERS.get(key)
    if builder is None:
        builder = _BUILDERS[key] = _original_compile_builder(self, append_unknown)
    return builder


def install_rule_cache() -> bool:
    """Share compiled URL builders between apps; False (and nothing changed) when Werkzeug's
    ``Rule._compile_builder`` no longer has the signature this cache was written for."""
    parameters = list(inspect.signature(_original_compile_builder).parameters)
    if parameters != ["self", "append_unknown"]:
        return False
    Rule._compile_builder = _cached_compile_builder  # type: ignore[method-assign]
    return True
