"""Atomic writes through symbolic links, keeping a file's mode; unwritable outputs refused
before any work, naming the user's path."""

from __future__ import annotations

import os
import stat

import numpy as np
import pandas as pd
import pytest

from forecast import NaiveForecaster, load
from forecast.cli.main import main
from forecast.io.atomic import atomic_write_bytes, unwritable


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_symlink_is_written_through_and_stays_a_link(tmp_path):
    (tmp_path / "releases").mkdir()
    real = tmp_path / "releases" / "real.csv"
    real.write_bytes(b"old")
    (tmp_path / "hop.csv").symlink_to("releases/real.csv")  # relative, and a chain
    link = tmp_path / "out.csv"
    link.symlink_to(tmp_path / "hop.csv")
    atomic_write_bytes(link, b"new")
    assert link.is_symlink()
    assert (tmp_path / "hop.csv").is_symlink()
    assert real.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hop.csv", "out.csv", "releases"]
    assert [p.name for p in real.parent.iterdir()] == ["real.csv"]  # no temporary left


def test_a_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "out.csv"
    link.symlink_to(tmp_path / "target.csv")
    atomic_write_bytes(link, b"new")
    assert link.is_symlink()
    assert (tmp_path / "target.csv").read_bytes() == b"new"


def test_an_existing_file_keeps_its_mode(tmp_path):
    path = tmp_path / "private.csv"
    path.write_bytes(b"old")
    path.chmod(0o600)
    atomic_write_bytes(path, b"new")
    assert path.read_bytes() == b"new"
    assert _mode(path) == 0o600
    path.chmod(0o640)
    atomic_write_bytes(path, b"newer")
    assert _mode(path) == 0o640


def test_a_new_file_gets_the_mode_open_would_give(tmp_path):
    umask = os.umask(0o022)
    try:
        atomic_write_bytes(tmp_path / "new.csv", b"x")
        with open(tmp_path / "plain.csv", "wb") as f:
            f.write(b"x")
    finally:
        os.umask(umask)
    assert _mode(tmp_path / "new.csv") == _mode(tmp_path / "plain.csv") == 0o644


def test_unwritable_says_why(tmp_path):
    assert unwritable(tmp_path / "fine.csv") is None
    assert list(tmp_path.iterdir()) == []  # the probe is removed
    assert unwritable(tmp_path / "no" / "m.csv") == f"folder '{tmp_path / 'no'}' does not exist"
    assert unwritable(tmp_path) == "it is a folder"
    assert unwritable("/sys/m.safetensors") is not None  # sysfs takes no files, even root's


# ------------------------------------------------------------------ the command line


@pytest.fixture
def files(tmp_path):
    index = pd.date_range("2020-01-01", periods=40, freq="D", name="date")
    frame = pd.DataFrame({"y": np.arange(40.0)}, index=index)
    frame.to_csv(tmp_path / "data.csv")
    NaiveForecaster(horizon=2).fit(frame).save(tmp_path / "model.safetensors")
    return tmp_path


@pytest.mark.parametrize(
    ("command", "out", "reason"),
    [
        ("fit", "/sys/m.safetensors", "Cannot write '/sys/m.safetensors': Permission denied."),
        ("fit", "{tmp}/missing/m.safetensors", "folder '{tmp}/missing' does not exist"),
        ("predict", "/sys/fc.csv", "Cannot write '/sys/fc.csv'"),
        ("predict", "{tmp}/fc.txt", "Cannot tell the format of output file"),
        ("backtest", "/sys/metrics.csv", "Cannot write '/sys/metrics.csv'"),
    ],
)
def test_an_unwritable_output_is_refused_before_any_work(
    no_training, files, capsys, monkeypatch, command, out, reason
):
    out, reason = out.format(tmp=files), reason.format(tmp=files)
    work = []
    monkeypatch.setattr(NaiveForecaster, "predict", lambda *a, **k: work.append(1))
    args = {
        "fit": ["--data", str(files / "data.csv"), "--time-col", "date", "--seq-len", "4"],
        "predict": ["--model", str(files / "model.safetensors")],
        "backtest": ["--data", str(files / "data.csv"), "--time-col", "date", "--seq-len", "4"],
    }[command]
    code = main([command, *args, "--out", out])
    err = capsys.readouterr().err
    assert code == 2, err
    assert reason in err
    assert ".tmp" not in err  # the user's path, not the hidden temporary file
    assert err.count("Cannot write") <= 1
    assert work == []


def test_predict_writes_through_a_link_and_keeps_the_mode(files, capsys):
    real = files / "real.csv"
    real.write_text("yesterday\n")
    real.chmod(0o600)
    (files / "out.csv").symlink_to(real)
    code = main(["predict", "--model", str(files / "model.safetensors"), "--out",
                 str(files / "out.csv")])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert (files / "out.csv").is_symlink()
    assert real.read_text().startswith("date,y,forecast_origin,")
    assert _mode(real) == 0o600


def test_a_model_saved_through_a_link(files):
    model = load(files / "model.safetensors")
    (files / "latest.safetensors").symlink_to("model.safetensors")
    os.chmod(files / "model.safetensors", 0o600)
    model.save(files / "latest.safetensors")
    assert (files / "latest.safetensors").is_symlink()
    assert _mode(files / "model.safetensors") == 0o600
    assert load(files / "latest.safetensors").predict().equals(model.predict())


@pytest.mark.parametrize(
    ("where", "existing"), [("open", False), ("open", True), ("fchmod", True)]
)  # fchmod: called for an existing file only, to keep its mode
def test_a_signal_right_after_the_temporary_file_is_made_leaves_none(
    tmp_path, monkeypatch, where, existing
):
    """SIGTERM (``Terminated``) or Ctrl-C raise between any two bytecodes: also just after
    ``os.open`` made the temporary file, before the write's ``try`` knew its name. The file
    at the path is untouched and no temporary file is left, for a write and for the check
    that the path is writable."""
    import forecast.io.atomic as atomic

    path = tmp_path / "out.csv"
    if existing:
        path.write_bytes(b"old")
    real = getattr(os, where)

    def interrupted(*args, **kwargs):
        fd = real(*args, **kwargs)
        if where == "open":
            os.close(fd)  # the file stays; only the test's descriptor is tidied
        raise KeyboardInterrupt  # as a signal handler raises, after the call returned

    monkeypatch.setattr(atomic.os, where, interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_bytes(path, b"new")
    with pytest.raises(KeyboardInterrupt):
        unwritable(path)
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == (["out.csv"] if existing else [])
    if existing:
        assert path.read_bytes() == b"old"
