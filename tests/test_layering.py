"""Floors point down: the JSON API (``oralhist/web/api/``) calls services, never the HTML
view modules, so a page can change without changing the API (issue 11, item 5)."""

from __future__ import annotations

import ast
from pathlib import Path

import oralhist

WEB = Path(oralhist.__file__).parent / "web"

#: The non-view modules of ``oralhist.web`` the API may use: request plumbing, not pages.
ALLOWED = {"api", "helpers", "gate", "streamed_upload"}


def _imported_web_modules(path: Path) -> list[tuple[int, str]]:
    """``(line, module)`` for every ``oralhist.web.<x>`` that ``path`` imports (absolute or
    relative, at module level or inside a function)."""
    package = ["oralhist", "web", "api"]  # every scanned module lives in oralhist.web.api
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            # ``from .. import recordings`` names the module in the alias
            names = [f"{module}.{alias.name}" for alias in node.names] if not node.module else []
            names.append(module)
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[:2] == ["oralhist", "web"] and len(parts) > 2:
                found.append((node.lineno, ".".join(parts[:3])))
    return found


def test_api_modules_import_no_html_view():
    offenders = [
        f"{path.name}:{line} imports {module}"
        for path in sorted((WEB / "api").glob("*.py"))
        for line, module in _imported_web_modules(path)
        if module.split(".")[2] not in ALLOWED
        and module.split(".")[2] in {p.stem for p in WEB.glob("*.py")} - {"__init__"}
    ]
    assert offenders == []


def test_the_scan_sees_relative_and_late_imports(tmp_path):
    """The checker itself: both ways the API used to reach into views are caught."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from ..search import moment_url\n"
        "def f():\n"
        "    from ..recordings import store_upload\n"
        "from .. import streamed_upload, documents\n"
        "import oralhist.web.access\n"
        "from ...services import recordings\n"
        "from .common import json_body\n",
        encoding="utf-8",
    )
    modules = sorted({module for _, module in _imported_web_modules(sample)})
    assert modules == [
        "oralhist.web.access",
        "oralhist.web.api",
        "oralhist.web.documents",
        "oralhist.web.recordings",
        "oralhist.web.search",
        "oralhist.web.streamed_upload",
    ]
