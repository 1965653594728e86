"""No reference in the repository points at a file that is not in it.

Every tracked text file (`.py`, `.md`, `.toml`, `.json`, `.sh`, `.example`, the Procfile and
extension-less scripts) is read for references to the repository's own files:

- Markdown links `[text](path#anchor)`, resolved from the linking file's folder;
- paths whose first folder is a top-level folder of the repository (`docs/DARAJA.md`,
  `tests/support/`), from the root; `./` and `../` paths from the file's folder, and never
  outside the repository. A path cut short by a placeholder or glob
  (`tests/data/daraja/stkquery_*.json`) needs its folder to exist;
- bare Markdown names (`DARAJA.md`) anywhere, and other bare file names in backticks
  (`conftest.py`): some file in the repository must carry that name;
- `§3.1` after a Markdown reference (or alone inside a Markdown file, for its own sections) must
  be the number of one of that file's headings, and `#anchor` the slug of one;
- module paths in backticks (`payments.service.LATE_CHECK_WINDOW`), `python -m pkg.mod` and the
  `[project.scripts]` entry points: the module must exist and the names after it appear in it.

URLs are left alone, and so is a path pinned to a commit (`tests/test_parse_result.py @26010d6`),
which is how a file in another repository is cited. `migrations/0002` names the numbered file
`migrations/0002_…py`; "payments/s" is a rate, not a path.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PurePosixPath

import pytest

REPO = Path(__file__).resolve().parents[2]
GIT = shutil.which("git")

SCANNED_SUFFIXES = {".py", ".md", ".toml", ".json", ".sh", ".example"}
SCANNED_NAMES = {"Procfile"}
#: File kinds a backticked bare name (`conftest.py`) is taken to be a reference to.
NAMED_SUFFIXES = SCANNED_SUFFIXES | {".txt", ".cfg", ".ini", ".yml", ".yaml", ".csv", ".sql"}

_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s)\]>\"'`]*")
_MD_LINK = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_PATH = re.compile(r"(?<![\w./@~-])((?:\.\.?/)*[\w.-]+(?:/[\w.-]*)+)")
_BARE_MD = re.compile(r"(?<![\w./@~-])([\w-][\w.-]*\.md)\b")
_BACKTICKED = re.compile(r"`([^`\n]+)`")
_BARE_NAME = re.compile(r"^([\w.-]+\.[A-Za-z]+)(?::\d+)?$")
#: A module path opening a backticked span (`payments.service.LATE_CHECK_WINDOW`, `bot.app`); one
#: further inside is an expression more often than not (`await bot.press(...)`).
_MODULE = re.compile(r"([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)(?![\w/-])")
#: A rate, not a path: "21 payments/s", "messages/min".
_RATE = re.compile(r"^[A-Za-z_]+/(?:s|ms|min|h)$")
_DASH_M = re.compile(r"\bpython3?(?:\.\d+)?\s+-m\s+([A-Za-z_][\w.]*)")
#: After a reference: pinned to a commit, so it names a file in another repository.
_PINNED = re.compile(r"^[`'\"]?\s*@[0-9a-f]{7,40}\b")
#: After a reference: a glob or a placeholder follows, so only its folder can be checked.
_CUT_SHORT = re.compile(r"^[*{<$%…\[]")
_SECTIONS = re.compile(r"^[`'\")]?\s*((?:§\s*\d+(?:\.\d+)*[\s,\-–]*(?:and\s+)?)+)")
_SECTION = re.compile(r"§\s*(\d+(?:\.\d+)*)")
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$", re.MULTILINE)
_FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True, order=True)
class Dangling:
    """One reference that does not resolve: where it is, what it says, and why it fails."""

    file: str
    line: int
    reference: str
    why: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reference!r} ({self.why})"


class Repository:
    """The files of a checkout (or of a test's synthetic tree) and what their references mean."""

    def __init__(self, root: Path, files: Iterable[str]) -> None:
        self.root = root
        self.files = frozenset(f for f in files if (root / f).is_file())

    @cached_property
    def folders(self) -> frozenset[str]:
        return frozenset(
            str(p) for f in self.files for p in PurePosixPath(f).parents if str(p) != "."
        )

    @cached_property
    def top_level(self) -> frozenset[str]:
        return frozenset(f for f in self.folders if "/" not in f)

    @cached_property
    def names(self) -> frozenset[str]:
        return frozenset(PurePosixPath(f).name for f in self.files)

    @cached_property
    def packages(self) -> frozenset[str]:
        return frozenset(f.split("/")[0] for f in self.files if f.endswith(".py") and "/" in f)

    def scanned(self) -> list[str]:
        return sorted(f for f in self.files if self._is_scanned(f))

    def _is_scanned(self, name: str) -> bool:
        path = PurePosixPath(name)
        if path.suffix in SCANNED_SUFFIXES or path.name in SCANNED_NAMES:
            return True
        if path.suffix or path.name.startswith("."):
            return False
        return self.text(name).startswith("#!")

    def text(self, name: str) -> str:
        try:
            return (self.root / name).read_text(encoding="utf-8")
        except UnicodeDecodeError:
            return ""

    def exists(self, path: str) -> bool:
        return path in self.files or path.rstrip("/") in self.folders

    def numbered(self, path: str) -> str | None:
        """`migrations/0002` names `migrations/0002_one_waiting_payment.py`: a numbered file."""
        folder, _, stem = path.rpartition("/")
        if not stem.isdigit():
            return None
        prefix = f"{folder}/{stem}_" if folder else f"{stem}_"
        return next((f for f in sorted(self.files) if f.startswith(prefix)), None)

    def normalise(self, base: str, reference: str) -> str | None:
        """`reference` from the folder of `base` as a repository path; None when it leaves it."""
        parts: list[str] = list(PurePosixPath(base).parent.parts)
        for part in reference.split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                if not parts:
                    return None
                parts.pop()
            else:
                parts.append(part)
        return "/".join(parts)

    def headings(self, name: str) -> tuple[set[str], set[str]]:
        """The section numbers ("3", "3.1") and the anchor slugs of a Markdown file."""
        numbers: set[str] = set()
        slugs: set[str] = set()
        seen: dict[str, int] = {}
        for match in _HEADING.finditer(_FENCE.sub("", self.text(name))):
            title = match[2]
            number = re.match(r"(\d+(?:\.\d+)*)\.?\s", title)
            if number:
                numbers.add(number[1])
            slug = re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            slugs.add(slug if count == 0 else f"{slug}-{count}")
        return numbers, slugs

    def module(self, dotted: str) -> tuple[str | None, list[str]]:
        """The file of the longest module prefix of `dotted`, and the names left after it."""
        parts = dotted.split(".")
        folder, found, used = "", None, 0
        for index, part in enumerate(parts):
            candidate = f"{folder}{part}"
            if f"{candidate}.py" in self.files:
                found, used = f"{candidate}.py", index + 1
                break
            if candidate in self.folders and any(
                f.startswith(candidate + "/") and f.endswith(".py") for f in self.files
            ):
                init = f"{candidate}/__init__.py"
                found, used = (init if init in self.files else candidate), index + 1
                folder = candidate + "/"
                continue
            break
        return found, parts[used:]


def _lines(text: str) -> list[int]:
    """Offsets where each line starts, to turn a match position into a line number."""
    return [0] + [m.end() for m in re.finditer("\n", text)]


def _line_of(starts: list[int], offset: int) -> int:
    low, high = 0, len(starts)
    while high - low > 1:
        middle = (low + high) // 2
        if starts[middle] <= offset:
            low = middle
        else:
            high = middle
    return low + 1


def _blank_urls(text: str) -> str:
    """URLs replaced by spaces of the same length, so offsets (and line numbers) stay right."""
    return _URL.sub(lambda m: " " * len(m[0]), text)


def find_dangling(repo: Repository) -> list[Dangling]:
    found: list[Dangling] = []
    for name in repo.scanned():
        found.extend(_dangling_in(repo, name))
    return sorted(set(found))


def _dangling_in(repo: Repository, name: str) -> Iterator[Dangling]:
    raw = repo.text(name)
    text = _blank_urls(raw)
    starts = _lines(text)
    is_markdown = name.endswith(".md")
    checked_sections: set[int] = set()

    def report(offset: int, reference: str, why: str) -> Dangling:
        return Dangling(name, _line_of(starts, offset), reference, why)

    def sections_after(end: int, target: str) -> Iterator[Dangling]:
        """`§` numbers right after a reference to `target` (a missing target is reported once)."""
        follow = _SECTIONS.match(text[end : end + 80])
        if not follow:
            return
        numbers = repo.headings(target)[0] if target in repo.files else None
        for section in _SECTION.finditer(follow[1]):
            checked_sections.add(end + follow.start(1) + section.start())
            if numbers is not None and section[1] not in numbers:
                yield report(end, f"{target} §{section[1]}", f"no section {section[1]}")

    if is_markdown:
        for match in _MD_LINK.finditer(raw):
            target = match[1]
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):
                continue
            path, _, anchor = target.partition("#")
            resolved = repo.normalise(name, path) if path else name
            if resolved is None or not repo.exists(resolved):
                yield report(match.start(), target, "no such file in the repository")
                continue
            if anchor and resolved.endswith(".md") and anchor not in repo.headings(resolved)[1]:
                yield report(match.start(), target, f"no heading with anchor #{anchor}")

    for match in _PATH.finditer(text):
        reference = match[1].rstrip(".,:;")
        end = match.start(1) + len(reference)
        tail = text[end : end + 60]
        first = reference.split("/")[0]
        if _PINNED.match(tail):
            continue
        if first in (".", ".."):
            resolved = repo.normalise(name, reference)
            if resolved is None:
                yield report(match.start(1), reference, "points outside the repository")
                continue
        elif first in repo.top_level:
            resolved = reference
        else:
            continue
        if _RATE.match(reference):
            continue
        if _CUT_SHORT.match(tail) and not reference.endswith("/"):
            resolved = resolved.rsplit("/", 1)[0] if "/" in resolved else resolved
        elif not repo.exists(resolved):
            resolved = repo.numbered(resolved) or resolved
        yield from sections_after(end, resolved)
        if not repo.exists(resolved):
            yield report(match.start(1), reference, "no such file or folder in the repository")
            continue
        if tail.startswith("#") and resolved.endswith(".md"):
            anchor = re.match(r"#([\w-]+)", tail)
            if anchor and anchor[1] not in repo.headings(resolved)[1]:
                yield report(match.start(1), reference + anchor[0], "no heading with that anchor")

    for match in _BARE_MD.finditer(text):
        reference = match[1]
        tail = text[match.end(1) : match.end(1) + 60]
        if _PINNED.match(tail):
            continue
        if reference not in repo.names:
            yield from sections_after(match.end(1), reference)
            yield report(match.start(1), reference, "no file of that name in the repository")
            continue
        targets = sorted(f for f in repo.files if PurePosixPath(f).name == reference)
        # The nearest file of that name: the one beside the citing file, else the shallowest.
        beside = repo.normalise(name, reference)
        target = beside if beside in repo.files else min(targets, key=lambda f: f.count("/"))
        yield from sections_after(match.end(1), target)

    for span in _BACKTICKED.finditer(text):
        content = span[1].strip()
        bare = _BARE_NAME.match(content)
        tail = text[span.end() : span.end() + 60]
        if (
            bare
            and PurePosixPath(bare[1]).suffix in NAMED_SUFFIXES
            and not bare[1].endswith(".md")  # checked above, backticks or not
            and not _PINNED.match(tail)
            and bare[1] not in repo.names
        ):
            yield report(span.start(1), bare[1], "no file of that name in the repository")
        module = _MODULE.match(content)
        if module and module[1].split(".")[0] in repo.packages:
            yield from _dangling_module(repo, report, span.start(1), module[1])

    for match in _DASH_M.finditer(text):
        if match[1].split(".")[0] in repo.packages:
            yield from _dangling_module(repo, report, match.start(1), match[1], runnable=True)

    if is_markdown:
        numbers, _ = repo.headings(name)
        for section in _SECTION.finditer(text):
            if section.start() not in checked_sections and section[1] not in numbers:
                yield report(section.start(), f"§{section[1]}", "no such section in this file")

    if name.endswith("pyproject.toml"):
        scripts = tomllib.loads(raw).get("project", {}).get("scripts", {})
        for script, target in scripts.items():
            module, _, attribute = target.partition(":")
            offset = raw.find(target)
            dotted = f"{module}.{attribute}" if attribute else module
            yield from _dangling_module(repo, report, max(offset, 0), dotted, label=script)


def _dangling_module(
    repo: Repository,
    report: Callable[[int, str, str], Dangling],
    offset: int,
    dotted: str,
    *,
    runnable: bool = False,
    label: str | None = None,
) -> Iterator[Dangling]:
    reference = dotted if label is None else f"{label} = {dotted}"
    path, rest = repo.module(dotted)
    if path is None or (path in repo.folders and rest):
        yield report(offset, reference, "no such module in the repository")
        return
    if runnable:
        if rest:
            yield report(offset, reference, "no such module in the repository")
        elif (
            path.endswith("__init__.py") and path.replace("__init__", "__main__") not in repo.files
        ):
            yield report(offset, reference, "a package without __main__.py cannot be run with -m")
        return
    source = repo.text(path) if path in repo.files else ""
    for attribute in rest:
        if not re.search(rf"\b{re.escape(attribute)}\b", source):
            yield report(offset, reference, f"{path} has no {attribute!r}")
            return


def tracked_files(root: Path) -> list[str]:
    """Tracked files plus new ones not yet added (but not ignored ones), as git sees them."""
    assert GIT is not None
    out = subprocess.run(  # noqa: S603 - fixed arguments
        [GIT, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        check=True,
    ).stdout
    return [name for name in out.decode("utf-8").split("\0") if name]


# ---------------------------------------------------------------------------------- the tests


@pytest.mark.skipif(GIT is None or not (REPO / ".git").exists(), reason="not a git checkout")
def test_no_reference_points_at_a_file_that_is_not_in_the_repository() -> None:
    repo = Repository(REPO, tracked_files(REPO))
    assert len(repo.scanned()) > 100, "the scan found almost nothing: is this the repository?"
    dangling = find_dangling(repo)
    assert not dangling, "references that do not resolve:\n" + "\n".join(map(str, dangling))


def _tree(root: Path, files: dict[str, str]) -> Repository:
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(content, encoding="utf-8")
    return Repository(root, files)


# The synthetic trees keep their files under `manual/`, which is not a folder of this repository,
# so the scan of the repository itself leaves their text alone. The few references that would
# still look like ours (bare names, `../` paths) are assembled at run time.
GONE_MD = "GONE" + ".md"
GUIDE_MD = "GUIDE" + ".md"


def test_every_kind_of_broken_reference_is_reported(tmp_path: Path) -> None:
    guide = "# Guide\n\n## 1. Tokens\n\n### 1.2 Refresh\n\n## Other part\n\n"
    guide += "[a link](other/thing.txt) from here, and §3 of this file.\n"
    readme = "\n".join(
        [
            "# Readme",
            "See [the guide](manual/GUIDE.md#other-part) and manual/GUIDE.md §1.2.",
            "Broken: [gone](manual/GONE.md) and manual/GONE.md.",
            "Anchor: [x](manual/GUIDE.md#nowhere); section: manual/GUIDE.md §4.",
            f"Bare: `conftest.py`, {GUIDE_MD} §1 and manual/0001 are fine, {GONE_MD} is not.",
            "Outside: " + ".." + "/shared/STYLE.md; inside: " + "." + "/manual/",
            "Named: `" + "gone" + ".py` does not exist; 3 payments/s is a rate.",
            "Modules: `pkg.mod.VALUE`, `pkg.mod.GONE`, `pkg.gone`; `await pkg.call()` is code.",
            "Run: python -m pkg.mod, python -m pkg",
            "Other repos: owner/repo `manual/GONE.md` @0123abc, https://x.org/manual/a.md",
            "Globs: manual/*.md fine, src/*.py not a folder of ours.",
        ]
    )
    pyproject = '[project.scripts]\ngood = "pkg.mod:main"\nbad = "pkg.GONE:main"\n'
    repo = _tree(
        tmp_path,
        {
            "README.md": readme,
            "manual/GUIDE.md": guide,
            "manual/0001_first.py": "",
            "pkg/__init__.py": "",
            "pkg/mod.py": "VALUE = 1\n\ndef main() -> None: ...\n",
            "pkg/conftest.py": "# one of the files\n",
            "pyproject.toml": pyproject,
        },
    )
    found = {(d.file, d.line, d.reference) for d in find_dangling(repo)}
    assert found == {
        ("README.md", 3, "manual/GONE.md"),  # a link and a path: one finding
        ("manual/GUIDE.md", 9, "other/thing.txt"),  # a link only
        ("manual/GUIDE.md", 9, "§3"),
        ("README.md", 4, "manual/GUIDE.md#nowhere"),
        ("README.md", 4, "manual/GUIDE.md §4"),
        ("README.md", 5, GONE_MD),
        ("README.md", 6, ".." + "/shared/STYLE.md"),
        ("README.md", 7, "gone" + ".py"),
        ("README.md", 8, "pkg.mod.GONE"),
        ("README.md", 8, "pkg.gone"),
        ("README.md", 9, "pkg"),
        ("pyproject.toml", 3, "bad = pkg.GONE.main"),
    }


def test_a_repository_with_only_good_references_passes(tmp_path: Path) -> None:
    repo = _tree(
        tmp_path,
        {
            "README.md": "Read `manual/A.md` §2 and [A](manual/A.md#2-two); `python -m app`.\n",
            "manual/A.md": "# A\n\n## 2. Two\n\n[Back](" + ".." + "/README.md), see §2.\n",
            "app/__init__.py": "",
            "app/__main__.py": "print('hi')\n",
        },
    )
    assert find_dangling(repo) == []
