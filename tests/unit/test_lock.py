"""requirements.txt (the lock the Heroku buildpack installs) agrees with pyproject.toml.

Every runtime dependency pyproject.toml asks for is pinned with a version its specifier allows,
and the lock pins nothing that the dependencies (followed through the installed packages'
metadata, extras included) do not need. `bash scripts/lock.sh` regenerates the lock.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterable
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]

Requires = Callable[[str], Iterable[str] | None]


def project_dependencies() -> list[Requirement]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return [Requirement(line) for line in data["project"]["dependencies"]]


def parse_lock(text: str) -> dict[str, Requirement]:
    """Name → requirement of every pin; anything but `name==version` is a problem."""
    pins: dict[str, Requirement] = {}
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        req = Requirement(line)
        specs = list(req.specifier)
        if len(specs) != 1 or specs[0].operator != "==":
            raise ValueError(f"not pinned with ==: {line}")
        pins[canonicalize_name(req.name)] = req
    return pins


def pinned_version(req: Requirement) -> Version:
    return Version(next(iter(req.specifier)).version)


def _applies(req: Requirement, extra: str | None = None) -> bool:
    if req.marker is None:
        return True
    return req.marker.evaluate({"extra": extra or ""})


def needed(deps: Iterable[Requirement], requires: Requires) -> set[str]:
    """Names of `deps` and everything they need on this platform, extras followed."""
    seen: set[str] = set()
    todo = [(d, None) for d in deps]
    while todo:
        req, via_extra = todo.pop()
        if not _applies(req, via_extra):
            continue
        name = canonicalize_name(req.name)
        key = name + "[" + ",".join(sorted(req.extras)) + "]"
        if key in seen:
            continue
        seen.add(key)
        for line in requires(name) or ():
            sub = Requirement(line)
            extras = [e for e in req.extras if sub.marker and sub.marker.evaluate({"extra": e})]
            if _applies(sub) or extras:
                todo.append((sub, extras[0] if extras else None))
    return {key.split("[", 1)[0] for key in seen}


def lock_problems(deps: list[Requirement], lock_text: str, requires: Requires) -> list[str]:
    """What is wrong with the lock for these dependencies; empty when it agrees."""
    problems: list[str] = []
    pins = parse_lock(lock_text)
    for dep in deps:
        name = canonicalize_name(dep.name)
        if name not in pins:
            problems.append(f"{dep} is not pinned")
        elif not dep.specifier.contains(pinned_version(pins[name]), prereleases=True):
            problems.append(f"{pins[name]} does not satisfy {dep}")
    wanted = needed(deps, requires)
    for name in sorted(pins):
        req = pins[name]
        if name not in wanted and _applies(req):
            problems.append(f"{req} is pinned but nothing in pyproject.toml needs it")
    for name in sorted(wanted - set(pins)):
        problems.append(f"{name} is needed but not pinned")
    return problems


def installed_requires(name: str) -> list[str] | None:
    try:
        return metadata.requires(name) or []
    except metadata.PackageNotFoundError:
        return None


# ---------------------------------------------------------------------------- the real files


def test_the_lock_agrees_with_pyproject() -> None:
    lock = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    assert lock_problems(project_dependencies(), lock, installed_requires) == []


def test_the_lock_says_how_to_regenerate_it() -> None:
    head = (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()[:10]
    assert any("bash scripts/lock.sh" in line for line in head)


def test_the_tests_run_on_the_lock() -> None:
    script = (ROOT / "scripts" / "test.sh").read_text(encoding="utf-8")
    lock_at = script.index("-r requirements.txt")
    assert lock_at < script.index("-e '.[test]'")


def test_the_buildpack_finds_a_python_version() -> None:
    version = (ROOT / ".python-version").read_text(encoding="utf-8").strip()
    assert Version(version) >= Version("3.11")


# ---------------------------------------------------------------------------- the checker


GRAPH = {
    "web": ["h11>=0.8", "uvloop; extra == 'fast'"],
    "h11": [],
    "uvloop": [],
    "lonely": [],
}


def _requires(name: str) -> list[str] | None:
    return GRAPH.get(name)


def test_a_pin_outside_the_specifier_is_reported() -> None:
    lock = "web==2.0\nh11==0.16.0\n"
    assert lock_problems([Requirement("web>=1,<2")], lock, _requires) == [
        "web==2.0 does not satisfy web<2,>=1"
    ]


def test_a_missing_dependency_is_reported() -> None:
    lock = "web==1.0\nh11==0.16.0\n"
    problems = lock_problems([Requirement("web"), Requirement("lonely>=1")], lock, _requires)
    assert problems == ["lonely>=1 is not pinned", "lonely is needed but not pinned"]


def test_a_pin_nothing_asks_for_is_reported() -> None:
    lock = "web==1.0\nh11==0.16.0\nlonely==3.0\n"
    assert lock_problems([Requirement("web")], lock, _requires) == [
        "lonely==3.0 is pinned but nothing in pyproject.toml needs it"
    ]


def test_extras_bring_their_dependencies() -> None:
    lock = "web==1.0\nh11==0.16.0\nuvloop==0.20\n"
    assert lock_problems([Requirement("web[fast]")], lock, _requires) == []
    assert lock_problems([Requirement("web")], lock, _requires) == [
        "uvloop==0.20 is pinned but nothing in pyproject.toml needs it"
    ]


def test_a_transitive_dependency_left_out_is_reported() -> None:
    assert lock_problems([Requirement("web")], "web==1.0\n", _requires) == [
        "h11 is needed but not pinned"
    ]


def test_unpinned_lines_are_refused() -> None:
    with pytest.raises(ValueError, match="not pinned"):
        parse_lock("web>=1.0\n")


def test_comments_and_markers_are_understood() -> None:
    pins = parse_lock(
        "# header\nuvloop==0.23.0 ; sys_platform != 'win32'\n    # via lipabot\nWeb==1.0\n"
    )
    assert sorted(pins) == ["uvloop", "web"]
    assert pinned_version(pins["uvloop"]) == Version("0.23.0")
