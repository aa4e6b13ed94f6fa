"""`forecast demo`: a backtest of the LSTM against naive over several cutoffs, CSV and PNG out."""

from __future__ import annotations

import contextlib
import functools
import math

import pandas as pd

import forecast.cli.demo
from forecast.cli import main


def test_demo_backtests_prints_both_errors_and_writes_csv_and_png(tmp_path, capsys, monkeypatch):
    small = functools.partial(forecast.cli.demo.run_demo, start="2017-01", n_windows=3)
    monkeypatch.setattr(forecast.cli.demo, "run_demo", small)
    assert main(["--quiet", "demo", "--out-dir", str(tmp_path), "--max-epochs", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Backtest of MSFT over 3 cutoffs, 5 trading days apart")
    errors = {line.split()[0]: float(line.split()[1]) for line in out.splitlines()[1:3]}
    assert set(errors) == {"LSTM", "naive"}
    assert all(math.isfinite(v) and v > 0 for v in errors.values())
    assert f"Wrote {tmp_path / 'forecast.csv'} and {tmp_path / 'forecast.png'}" in out
    # Only the two outputs, complete (written atomically: no temporary files left).
    assert sorted(p.name for p in tmp_path.iterdir()) == ["forecast.csv", "forecast.png"]
    csv = pd.read_csv(tmp_path / "forecast.csv", parse_dates=["date"], index_col="date")
    assert list(csv.columns) == ["close"]
    assert list(csv.index.strftime("%Y-%m-%d")) == [
        "2017-11-13",
        "2017-11-14",
        "2017-11-15",
        "2017-11-16",
        "2017-11-17",
    ]
    assert (tmp_path / "forecast.png").read_bytes()[:4] == b"\x89PNG"


def test_demo_result_holds_the_backtests(tmp_path) -> None:
    result = forecast.cli.demo.run_demo(tmp_path, max_epochs=1, start="2017-01", n_windows=2)
    for bt in (result.model_backtest, result.naive_backtest):
        assert list(bt.metrics["window"]) == [0, 1]
    assert result.model_mae == result.model_backtest.metrics["mae"].mean()
    assert result.naive_mae == result.naive_backtest.metrics["mae"].mean()
    # Both forecast the same windows: the same actual values.
    pd.testing.assert_series_equal(
        result.model_backtest.forecasts["actual"], result.naive_backtest.forecasts["actual"]
    )


def test_quick_demo_is_the_small_job_and_says_so(tmp_path, capsys):
    # CI's wheel smoke test runs `forecast demo --quick`: the whole job, in seconds.
    assert main(["--quiet", "demo", "--quick", "--out-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Quick mode (--quick): a smoke run, not a result")
    assert "Backtest of MSFT over 2 cutoffs" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["forecast.csv", "forecast.png"]


def test_quick_demo_keeps_an_explicit_budget(tmp_path, monkeypatch):
    seen = {}

    def spy(out_dir, **kwargs):
        seen.update(kwargs)
        raise SystemExit(0)  # the settings are what this test is about, not the run

    monkeypatch.setattr(forecast.cli.demo, "run_demo", spy)
    with contextlib.suppress(SystemExit):
        main(["--quiet", "demo", "--quick", "--max-epochs", "3", "--out-dir", str(tmp_path)])
    assert seen["max_epochs"] == 3
    assert seen["start"] == forecast.cli.demo.QUICK["start"]
    assert seen["n_windows"] == forecast.cli.demo.QUICK["n_windows"]
