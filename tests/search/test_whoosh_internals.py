"""whoosh's private API is used in one module only, and the whoosh version it fits is checked
when the app starts and when an index is opened, with a message naming both versions (also
under ``python -O``, which strips ``assert``)."""

from __future__ import annotations

import ast
import functools
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import whoosh

from oralhist import create_app
from oralhist.search import SearchIndex
from oralhist.search.backend import ENGINES, SearchBackend, UnknownSearchBackend, open_backend
from oralhist.search.whoosh_internals import REQUIRED_WHOOSH, WhooshVersionError, check_whoosh

PACKAGE = Path(__file__).resolve().parents[2] / "oralhist"
INTERNALS = PACKAGE / "search" / "whoosh_internals.py"


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _defined_names(tree: ast.AST) -> set[str]:
    """Private names a module defines itself: functions, classes, attributes it assigns."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names.add(node.value)  # __slots__
    return {n for n in names if _private(n)}


@functools.cache
def _whoosh_private_names() -> frozenset[str]:
    """Every private name whoosh defines (its sources have old escapes: warnings silenced)."""
    names: set[str] = set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for path in Path(whoosh.__file__).parent.rglob("*.py"):
            names |= _defined_names(ast.parse(path.read_text(encoding="utf-8")))
    return frozenset(names)


def _enclosing_classes(tree: ast.AST) -> dict[int, ast.ClassDef]:
    """The innermost class around each node."""
    found: dict[int, ast.ClassDef] = {}
    for cls in ast.walk(tree):
        if isinstance(cls, ast.ClassDef):
            for node in ast.walk(cls):
                found[id(node)] = cls  # ast.walk is breadth-first: inner classes come later
    return found


def _whoosh_bases(tree: ast.AST) -> set[str]:
    """Names a module imports from whoosh (a class based on one extends whoosh)."""
    return {
        alias.asname or alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom | ast.Import)
        for alias in node.names
        if (getattr(node, "module", None) or alias.name).startswith("whoosh")
    }


def _set_in_init(cls: ast.ClassDef) -> set[str]:
    """The attributes a class's own ``__init__`` sets on ``self``: its own state."""
    names: set[str] = set()
    for fn in cls.body:
        if isinstance(fn, ast.FunctionDef) and fn.name == "__init__":
            for node in ast.walk(fn):
                targets = node.targets if isinstance(node, ast.Assign) else []
                for target in targets:
                    if isinstance(target, ast.Attribute) and ast.unparse(target.value) == "self":
                        names.add(target.attr)
    return names


def scan(sources: dict[str, str], whoosh_names: frozenset[str]) -> list[str]:
    """Every place in ``sources`` (name -> code) that uses a private whoosh name: importing
    one; reading or writing one on an object that is not ours; reaching whoosh's state through
    ``self`` in a subclass of a whoosh class. Overriding a hook whoosh calls (``def
    _write_block``) and calling the parent's version of that same hook
    (``super()._write_block()``) are how whoosh is extended, and allowed."""
    trees = {name: ast.parse(code) for name, code in sources.items()}
    ours = set().union(set(), *(_defined_names(t) for t in trees.values()))
    found = []
    for name, tree in trees.items():
        classes = _enclosing_classes(tree)
        whoosh_bases = _whoosh_bases(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("whoosh"):
                private = [a.name for a in node.names if _private(a.name)]
                found += [f"{name}:{node.lineno} imports {a}" for a in private]
            if not isinstance(node, ast.Attribute) or node.attr not in whoosh_names:
                continue
            base = node.value
            through_self = (isinstance(base, ast.Name) and base.id in ("self", "cls")) or (
                isinstance(base, ast.Call) and getattr(base.func, "id", "") == "super"
            )
            if through_self:
                cls = classes.get(id(node))
                if cls is None:
                    continue
                overrides = {n.name for n in cls.body if isinstance(n, ast.FunctionDef)}
                bases = {ast.unparse(b).split(".")[0] for b in cls.bases}
                if node.attr in overrides | _set_in_init(cls) or not bases & whoosh_bases:
                    continue  # an override (or the parent's version), or our own class's state
            elif node.attr in ours:
                continue  # one of our own objects' names (``view._pos``)
            found.append(f"{name}:{node.lineno} {ast.unparse(node)}")
    return found


def test_no_module_but_whoosh_internals_touches_whoosh_private_names():
    sources = {
        str(p.relative_to(PACKAGE.parent)): p.read_text(encoding="utf-8")
        for p in PACKAGE.rglob("*.py")
        if p != INTERNALS
    }
    assert scan(sources, _whoosh_private_names()) == []


def test_the_scan_finds_each_kind_of_reach():
    leaky = (
        "from whoosh.codec.whoosh3 import W3PostingsWriter, _lenfield\n"
        "def lengths(reader):\n"
        "    return reader._perdoc\n"
        "class Writer(W3PostingsWriter):\n"
        "    def _write_block(self, last=False):\n"
        "        super()._write_block(last)\n"
        "        return self._ids\n"
        "class Ours:\n"
        "    def __init__(self):\n"
        "        self._ids = []\n"
    )
    found = scan({"leak.py": leaky}, _whoosh_private_names())
    assert found == [
        "leak.py:1 imports _lenfield",
        "leak.py:3 reader._perdoc",
        "leak.py:7 self._ids",
    ]


def test_the_required_version_is_the_installed_one():
    assert tuple(whoosh.__version__) == REQUIRED_WHOOSH
    check_whoosh()


def test_another_version_is_refused_naming_both(monkeypatch):
    with pytest.raises(WhooshVersionError) as raised:
        check_whoosh((2, 8, 0))
    message = str(raised.value)
    assert "2.8.0" in message and "2.7.5" in message and "whoosh-reloaded==2.7.5" in message


def test_the_app_does_not_start_on_another_whoosh(monkeypatch, tmp_path):
    monkeypatch.setattr(whoosh, "__version__", (2, 7, 4))
    with pytest.raises(WhooshVersionError, match=r"needs whoosh 2\.7\.5 .* whoosh 2\.7\.4 is"):
        create_app({"TESTING": True, "SECRET_KEY": "x"}, instance_path=str(tmp_path))
    with pytest.raises(WhooshVersionError):
        SearchIndex(tmp_path / "index")


def test_the_check_survives_python_dash_o(tmp_path):
    code = (
        "import whoosh; whoosh.__version__ = (3, 0, 0)\n"
        "from oralhist.search import SearchIndex\n"
        "from oralhist.search.whoosh_internals import WhooshVersionError\n"
        "try:\n"
        f"    SearchIndex({str(tmp_path / 'index')!r})\n"
        "except WhooshVersionError as e:\n"
        "    print('refused:', e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-O", "-c", code], capture_output=True, text=True, check=True
    )
    assert "refused:" in out.stdout and "3.0.0" in out.stdout


def test_an_unknown_backend_is_refused_at_start(tmp_path):
    with pytest.raises(UnknownSearchBackend, match=r"'elastic'.*whoosh"):
        create_app(
            {"TESTING": True, "SECRET_KEY": "x", "SEARCH_BACKEND": "elastic"},
            instance_path=str(tmp_path),
        )


@pytest.mark.parametrize("name", sorted(ENGINES))
def test_every_engine_implements_the_protocol(name, tmp_path):
    backend = open_backend({"SEARCH_BACKEND": name, "SEARCH_INDEX_DIR": str(tmp_path / "ix")})
    assert isinstance(backend, SearchBackend)
    missing = [
        n
        for n in dir(SearchBackend)
        if not n.startswith("_") and not callable(getattr(backend, n, None))
    ]
    assert missing == []


def test_the_contract_suite_names_no_engine():
    """``tests/search/contract/`` is what every backend passes unchanged: it reaches the engine
    only through ``open_backend`` and the ``SearchBackend`` protocol."""
    contract = Path(__file__).resolve().parent / "contract"
    engine_names = re.compile(
        r"(?i:whoosh)|SearchIndex|search\.(index|evaluate|pool|codec|storage|restriction)\b"
    )
    found = [
        f"{path.name}:{n}"
        for path in sorted(contract.glob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if engine_names.search(line)
    ]
    assert found == []
