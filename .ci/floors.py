"""The runtime dependencies' declared floors, read from pyproject.toml, as pip constraints.

``python .ci/floors.py [--skip NAME ...]`` prints one ``name==floor`` line per dependency of
``[project] dependencies`` (its ``>=`` bound; an environment marker is kept), for
``pip install -c``: ``make test-floors`` installs the package and the tests with every
dependency at the lowest version we claim, and runs the fast tests there.

``python .ci/floors.py --check [--skip NAME ...]`` compares the installed versions with those
floors and exits 1 naming each one that differs (a constraint pip did not honour, or a floor
that is not a release), so the run proves it tested what it says.

A dependency without a ``>=`` floor is an error: every dependency must say how old it may be.
``--skip`` leaves one out (``make test-floors`` skips torch: the only torch builds on our
machines are the local CPU wheels of recent releases, any other is a multi-GB CUDA download).

Printing the constraints needs the standard library only (it runs before the virtual
environment exists), so the requirement strings are parsed with a regular expression rather
than ``packaging``, and anything beyond ``name[extras] specifiers; marker`` is refused
rather than guessed at. ``--check`` runs inside the tested environment and compares with
``packaging.version``.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
from importlib import metadata
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 has tomli through the package's own dependencies
    import tomli as tomllib

# Constraints on what the floors themselves depend on, as it stood when they were released,
# each with its reason (other projects' oldest-dependency runs pin the same): not our
# dependencies, so not in pyproject.toml, and left out of --check.
OF_THEIR_TIME = {
    "pyparsing<3.3": "matplotlib 3.8 calls the camelCase names that pyparsing 3.3 deprecates "
    "(even 3.10.6 does): a DeprecationWarning at import, an error under our pytest settings",
}
PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
REQUIREMENT = re.compile(
    r"^\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*"
    r"(?P<specs>[^;]*?)\s*(?:;\s*(?P<marker>.+?))?\s*$"
)


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()  # PEP 503


def floors(pyproject: Path = PYPROJECT) -> list[tuple[str, str, str | None]]:
    """``(name, floor, marker or None)`` of each runtime dependency, in pyproject's order."""
    dependencies = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    found = []
    for requirement in dependencies:
        match = REQUIREMENT.match(requirement)
        if match is None:
            raise SystemExit(f"pyproject.toml: cannot read the dependency {requirement!r}.")
        lower = [
            spec.strip()[2:].strip()
            for spec in match["specs"].split(",")
            if spec.strip().startswith(">=")
        ]
        if len(lower) != 1:
            raise SystemExit(
                f"pyproject.toml: the dependency {requirement!r} needs exactly one '>=' floor "
                "(the oldest version the fast tests pass with; make test-floors checks it)."
            )
        found.append((match["name"], lower[0], match["marker"]))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip", action="append", default=[], metavar="NAME")
    parser.add_argument("--check", action="store_true", help="compare the installed versions")
    args = parser.parse_args(argv)
    skip = {_normalise(name) for name in args.skip}
    wanted = [dep for dep in floors() if _normalise(dep[0]) not in skip]
    if not args.check:
        for name, floor, marker in wanted:
            print(f"{name}=={floor}" + (f"; {marker}" if marker else ""))
        for constraint, reason in OF_THEIR_TIME.items():
            print(f"{constraint}  # {reason}")
        return 0
    # --check runs inside the tested environment, which has packaging (Lightning needs it).
    from packaging.version import Version

    wrong = []
    for name, floor, marker in wanted:
        if marker is not None:
            continue  # e.g. tomli on Python < 3.11: not installed here
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            wrong.append(f"{name}: floor {floor}, not installed")
            continue
        if Version(installed) != Version(floor):  # 2.2 == 2.2.0
            wrong.append(f"{name}: floor {floor}, installed {installed}")
        else:
            print(f"{name} {installed} (floor {floor})")
    for name in sorted(skip):
        with contextlib.suppress(metadata.PackageNotFoundError):
            print(f"{name} {metadata.version(name)} (not pinned: --skip {name})")
    if wrong:
        print("Not at the declared floor:\n  " + "\n  ".join(wrong), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
