"""The layers hold: the domain and the Daraja library import no face, and no two top-level
packages import each other (docs/ARCHITECTURE.md draws the layers)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.support.layering import Rule, forbidden_imports, package_cycles, top_level_packages

ROOT = Path(__file__).resolve().parents[2]

FACES = frozenset({"bot", "webhooks", "cli", "offline"})
RULES = (
    Rule("payments", FACES | {"telegram", "starlette", "uvicorn", "httpx"}),
    # The library stands on its own (tests/unit/daraja/test_standalone.py); the emulator is a
    # Starlette app, so only it may import Starlette and uvicorn.
    Rule("daraja", FACES | {"payments", "config", "telegram", "tortoise"}),
    Rule("daraja", frozenset({"starlette", "uvicorn"}), allowed_under=("daraja/emulator",)),
    # bot/__main__.py is the `python -m bot` shim that runs cli.main.
    Rule("bot", frozenset({"webhooks", "cli", "offline"}), skip_entry_points=True),
)


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")
    return root


def test_every_package_of_the_repository_is_scanned() -> None:
    packages = top_level_packages(ROOT)
    for expected in ("bot", "webhooks", "payments", "daraja", "config", "cli", "offline", "tests"):
        assert expected in packages
    assert ".venv" not in packages


def test_no_package_imports_what_its_layer_forbids() -> None:
    violations = forbidden_imports(ROOT, RULES)
    assert violations == [], "\n".join(map(str, violations))


def test_no_two_top_level_packages_import_each_other() -> None:
    violations = package_cycles(ROOT)
    assert violations == [], "\n".join(map(str, violations))


# ---------------------------------------------------------------- the checker can fail


def test_a_forbidden_import_is_reported_with_file_and_line(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "payments/__init__.py": "",
            "payments/service.py": """\
                from __future__ import annotations

                from typing import TYPE_CHECKING

                if TYPE_CHECKING:
                    from telegram import Bot


                def notify() -> None:
                    import webhooks.app
            """,
            "daraja/__init__.py": "",
            "daraja/client.py": "import httpx\nimport starlette.requests\n",
            "daraja/emulator/__init__.py": "",
            "daraja/emulator/app.py": "from starlette.applications import Starlette\n",
            "bot/__init__.py": "",
            "bot/__main__.py": "from cli.main import main\n",
            "bot/handlers/__init__.py": (
                "\n\nimport importlib\nimportlib.import_module('offline.demo')\n"
            ),
        },
    )
    found = [str(v) for v in forbidden_imports(root, RULES)]
    assert found == [
        "bot/handlers/__init__.py:4: bot must not import offline (offline.demo)",
        "daraja/client.py:2: daraja must not import starlette (starlette.requests)",
        "payments/service.py:6: payments must not import telegram (telegram)",
        "payments/service.py:10: payments must not import webhooks (webhooks.app)",
    ]


def test_a_cycle_between_packages_is_reported_with_every_import_on_it(tmp_path: Path) -> None:
    # a -> b -> c -> a through a function body, a TYPE_CHECKING block and a plain import;
    # d imports a but nothing imports d back; e's __main__ shim imports a and a imports e.
    root = _tree(
        tmp_path,
        {
            "a/__init__.py": "",
            "a/one.py": "import os\n\n\ndef f():\n    from b.two import g\n    import e.tool\n",
            "b/__init__.py": "",
            "b/two.py": "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    import c\n",
            "c/__init__.py": "from a import one\n",
            "d/__init__.py": "import a.one\n",
            "e/__init__.py": "",
            "e/tool.py": "",
            "e/__main__.py": "from a.one import f\n",
            "notes/readme.py": "import a\n",  # not a package: no __init__.py
        },
    )
    assert top_level_packages(root) == ["a", "b", "c", "d", "e"]
    found = [str(v) for v in package_cycles(root)]
    assert found == [
        "a/one.py:5: a imports b.two: cycle a <-> b <-> c",
        "b/two.py:4: b imports c: cycle a <-> b <-> c",
        "c/__init__.py:1: c imports a: cycle a <-> b <-> c",
    ]
    # Without the shim exception, a <-> e would be a cycle too.
    (root / "e" / "run.py").write_text("from a.one import f\n", encoding="utf-8")
    assert "e/run.py:1: e imports a.one: cycle a <-> b <-> c <-> e" in [
        str(v) for v in package_cycles(root)
    ]
