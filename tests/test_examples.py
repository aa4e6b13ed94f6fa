"""The worked analyses in examples/ run top to bottom, print their key numbers, save figures.

Each runs in this process (``runpy``: torch and Lightning are imported once for all three)
with ``FORECAST_EXAMPLES_QUICK=1``, which shrinks data and training budgets to seconds, and
``FORECAST_EXAMPLES_OUT`` pointing at a temporary folder. The suite's warning filters apply:
an example that warns fails, as a user would see the warning too.
"""

from __future__ import annotations

import runpy
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
import torch

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# What each example must print (a line starting so) and the figures it must save.
EXPECTED = {
    "01_stock_prices": (
        [
            "Autocorrelation of daily log returns, lags 1-10:",
            "MSFT, 3 windows of 5 trading days",
            "LSTM better than naive in",
            "Verdict:",
            "Panel of 3 tickers, mean MASE over windows:",
        ],
        {
            "stock_random_walk.png",
            "stock_backtest.png",
            "stock_mae_per_window.png",
            "stock_training.png",
            "stock_panel_backtest.png",
            "stock_panel_forecast.png",
        },
    ),
    "02_air_passengers": (
        [
            "144 months, 1949-01 to 1960-12",
            "2 yearly windows, 12 months ahead",
            "LSTM: MAE",
            "GRU: MAE",
            "RNN: MAE",
        ],
        {
            "air_mae_per_window.png",
            "air_backtest.png",
            "air_backtest_seasonal_naive.png",
            "air_forecast.png",
            "air_training.png",
        },
    ),
    "03_many_series_calendar": (
        [
            "6 stores,",
            "Known-future covariates: ['day_of_week', 'day_of_month', 'day_of_year', 'month']",
            "6 stores x 2 windows of 14 days, averaged:",
            "LSTM + calendar beats the seasonal naive forecast on",
            "80% intervals over 6 stores x 2 windows of 14 days:",
            "LSTM quantiles ",
            "LSTM conformal ",
            "seasonal naive conformal ",
        ],
        {
            "stores_mase.png",
            "stores_backtest.png",
            "stores_training.png",
            "stores_forecast.png",
            "stores_intervals.png",
        },
    ),
    "04_nightly_job": (
        [
            "History: 3 tickers,",
            "Night 1, 2017-11-08:",
            "  report: 0 of 3 series bad",
            "  report: 1 of 4 series bad",
            "  bad series NEWCO: unseen -> naive",
            "  bad series ^IXIC: stale -> naive",
            "Forecast table: 55 rows, exit statuses of the nights [0, 0, 0]",
            "Scores table, overall rows (2, one per scored night):",  # nights 2 and 3
            "Retrained with a warm start: exit status 0",
        ],
        {"nightly"},  # its folder: the job's files and database, no figures
    ),
}


@pytest.fixture
def _one_thread():
    """Tiny networks run fastest on one thread: with two, OpenMP's hand-offs cost more than
    the arithmetic, and on a busy machine (shared CPUs) a step takes 100x longer."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_every_example_is_checked() -> None:
    assert {p.stem for p in EXAMPLES.glob("[0-9]*.py")} == set(EXPECTED)


@pytest.mark.slow
@pytest.mark.usefixtures("_one_thread")
@pytest.mark.parametrize("name", list(EXPECTED))
def test_example_runs_top_to_bottom(name, tmp_path, monkeypatch, capsys) -> None:
    out = tmp_path / "figures"
    monkeypatch.setenv("FORECAST_EXAMPLES_QUICK", "1")
    monkeypatch.setenv("FORECAST_EXAMPLES_OUT", str(out))
    monkeypatch.chdir(tmp_path)
    try:
        runpy.run_path(str(EXAMPLES / f"{name}.py"), run_name="__main__")
    finally:
        plt.close("all")
    printed = capsys.readouterr().out.splitlines()
    lines, figures = EXPECTED[name]
    for start in lines:
        assert any(line.startswith(start) for line in printed), start
    assert {p.name for p in out.iterdir()} == figures
    for figure in figures - {"nightly"}:
        assert (out / figure).read_bytes()[:4] == b"\x89PNG"
    # Nothing written where the example was run from, except its figures folder.
    assert [p.name for p in tmp_path.iterdir()] == ["figures"]
