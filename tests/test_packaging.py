"""The artefacts users install: the sdist and the wheel hold every file the package needs.

An editable install reads the source checkout, so a module, a data file or a licence left
out of the wheel goes unnoticed until a user installs it. These tests build the sdist and
the wheel from it (``python -m build``, as ``make dist`` does), compare the wheel's files
with what the package reads at run time, and load the data from the unpacked wheel. CI's
``make smoke`` (``.ci/smoke.py``) then installs the wheel into a fresh venv and uses it.
"""

from __future__ import annotations

import ast
import email.parser
import os
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from forecast._version import __version__

ROOT = Path(__file__).resolve().parent.parent
DIST_NAME = "forecast-rnn"
WHEEL_DATA = "forecast/_datasets"  # where pyproject's force-include puts datasets/


def _files_under(folder: Path) -> set[str]:
    """Every file below ``folder`` as a POSIX path relative to the repository root."""
    return {
        path.relative_to(ROOT).as_posix()
        for path in folder.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def _data_files_read() -> set[str]:
    """The names the package passes to ``forecast.datasets._data_path``, read from the code."""
    names = set()
    for module in (ROOT / "forecast").rglob("*.py"):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "_data_path"
            ):
                (argument,) = node.args
                assert isinstance(argument, ast.Constant), f"{module}: a computed data name"
                names.add(argument.value)
    return names


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (wheel,) = out.glob("*.whl")
    (sdist,) = out.glob("*.tar.gz")
    return {"wheel": wheel, "sdist": sdist}


@pytest.fixture(scope="module")
def wheel_files(dist) -> set[str]:
    with zipfile.ZipFile(dist["wheel"]) as archive:
        return set(archive.namelist())


def test_the_version_is_written_once_and_the_metadata_agrees():
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'^dynamic = \["version"\]$', pyproject, re.M), "version not dynamic"
    assert not re.search(r"^version\s*=", pyproject, re.M), "a second version in pyproject"
    assert 'path = "forecast/_version.py"' in pyproject
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)
    import importlib.metadata

    # The installed (editable) metadata was built from the same line; a version changed
    # without reinstalling shows here.
    assert importlib.metadata.version(DIST_NAME) == __version__


@pytest.mark.slow
def test_the_artefacts_are_named_and_versioned(dist):
    assert dist["wheel"].name == f"forecast_rnn-{__version__}-py3-none-any.whl"
    assert dist["sdist"].name == f"forecast_rnn-{__version__}.tar.gz"


@pytest.mark.slow
def test_the_wheel_holds_every_module_and_package_file(wheel_files):
    # Every file of the package in the checkout (modules, py.typed, any JSON/CSV it opens).
    needed = _files_under(ROOT / "forecast")
    assert "forecast/py.typed" in needed
    assert needed - wheel_files == set()


@pytest.mark.slow
def test_the_wheel_holds_the_data_its_provenance_and_licences(wheel_files):
    shipped = {f"{WHEEL_DATA}/{Path(name).relative_to('datasets').as_posix()}"
               for name in _files_under(ROOT / "datasets")}  # fmt: skip
    assert shipped - wheel_files == set()
    read = _data_files_read()
    assert read == {"stock_prices.csv.gz", "air_passengers.csv"}  # what datasets.py loads
    assert {f"{WHEEL_DATA}/{name}" for name in read} <= wheel_files
    # The licence files the data's README names lie beside the data.
    readme = (ROOT / "datasets" / "README.md").read_text(encoding="utf-8")
    licences = set(re.findall(r"`(LICENSES/[^`]+)`", readme))
    assert len(licences) == 3
    assert {f"{WHEEL_DATA}/{name}" for name in licences} <= wheel_files


@pytest.mark.slow
def test_the_wheel_metadata_names_the_distribution_licences_and_command(dist, wheel_files):
    info = f"forecast_rnn-{__version__}.dist-info"
    # Nothing but the package and its metadata: no top-level tests/ or datasets/ package.
    assert {name.split("/")[0] for name in wheel_files} == {"forecast", info}
    with zipfile.ZipFile(dist["wheel"]) as archive:
        metadata = email.parser.Parser().parsestr(archive.read(f"{info}/METADATA").decode())
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
    assert metadata["Name"] == DIST_NAME
    assert metadata["Version"] == __version__
    assert metadata["License-Expression"] == "MIT AND NCSA AND CC0-1.0"
    licence_files = set(metadata.get_all("License-File"))
    assert licence_files == {
        "LICENSE",
        "datasets/LICENSES/CC0-1.0.txt",
        "datasets/LICENSES/arch-NCSA.md",
        "datasets/LICENSES/pmdarima-MIT.txt",
    }
    assert {f"{info}/licenses/{name}" for name in licence_files} <= wheel_files
    assert "forecast = forecast.cli:main" in entry_points
    assert metadata["Requires-Python"] == ">=3.10"


@pytest.mark.slow
def test_the_sdist_builds_the_same_wheel_and_holds_the_tests(dist):
    # The wheel above was built from this sdist (python -m build), so the sdist holds what
    # the wheel needs; it also carries what a packager runs the tests with.
    with tarfile.open(dist["sdist"]) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    for needed in ("pyproject.toml", "README.md", "CHANGELOG.md", "LICENSE", "PKG-INFO"):
        assert needed in names
    assert _files_under(ROOT / "datasets") <= names
    assert _files_under(ROOT / "forecast") <= names
    assert {"tests/conftest.py", "docs/architecture.md", "examples/README.md"} <= names
    assert "benchmarks/run.py" in names


@pytest.mark.slow
def test_the_data_loads_from_the_unpacked_wheel(dist, tmp_path):
    # In a fresh interpreter, with the unpacked wheel first on the path and the checkout's
    # folder not the current one: nothing may depend on the checkout's datasets/ folder.
    site = tmp_path / "site"
    with zipfile.ZipFile(dist["wheel"]) as archive:
        archive.extractall(site)
    code = (
        "import forecast.datasets as d; "
        "print(d.__file__); "
        "print(d._data_path('stock_prices.csv.gz')); "
        "print(len(d.load_stock_prices()), len(d.load_air_passengers()))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(site)},
    ).stdout.split()
    assert out[0].startswith(str(site))
    assert out[1].startswith(str(site / "forecast" / "_datasets"))
    assert out[2:] == ["7983", "144"]


def test_install_hints_name_the_distribution():
    # `pip install "forecast[interop]"` would install the unrelated `forecast` on PyPI.
    pyproject = (ROOT / "pyproject.toml").read_text()
    section = pyproject.split("[project.optional-dependencies]")[1].split("\n[")[0]
    extras = re.findall(r"^([a-z0-9_-]+) = \[", section, re.M)
    assert {"interop", "darts", "parquet"} <= set(extras)
    wrong = re.compile(rf"(?<![\w-])forecast\[(?:{'|'.join(extras)})\]")
    texts = [*(ROOT / "forecast").rglob("*.py"), *(ROOT / "docs").glob("*.md")]
    texts += [ROOT / "README.md", ROOT / "datasets" / "README.md"]
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in texts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if wrong.search(line)
    ]
    assert found == [], "say forecast-rnn[extra]:\n" + "\n".join(found)
