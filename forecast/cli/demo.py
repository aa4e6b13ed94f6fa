"""The README's main job on bundled data: backtest an LSTM against naive, write CSV and PNG.

An LSTM learns Microsoft's daily close from the last 60 trading days (with open, high, low
and volume as past covariates). :func:`forecast.backtest.backtest` places ``n_windows``
cutoffs 5 trading days apart at the end of the data; the LSTM is fitted once, on the
history up to the oldest cutoff (``refit=False``), and forecasts the 5 trading days after
every cutoff from that cutoff's own history, as a nightly job would. The naive last-value
forecast is backtested on the same windows. Then the LSTM forecasts the 5 trading days
after the data ends (from the full history, without refitting) into ``forecast.csv`` and
``forecast.png``, both written atomically.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from forecast.datasets import load_stock_prices
from forecast.evaluation.backtest import BacktestResult, backtest
from forecast.forecasters.baselines import NaiveForecaster
from forecast.forecasters.recurrent import LSTMForecaster
from forecast.io.atomic import atomic_open, atomic_write_bytes

__all__ = ["DemoResult", "run_demo"]

logger = logging.getLogger("forecast")

HORIZON = 5  # trading days
# `forecast demo --quick`: the whole job in seconds, to check an installation (CI's wheel
# smoke test); one epoch on 2017's data, so its errors say nothing about the model.
QUICK: dict[str, Any] = {"max_epochs": 1, "start": "2017-01", "n_windows": 2}


@dataclass
class DemoResult:
    """Numbers and files the demo produced.

    ``model_mae`` and ``naive_mae`` are mean absolute errors (USD) over all backtest
    windows; ``model_backtest`` and ``naive_backtest`` hold the per-window detail.
    """

    model_mae: float
    naive_mae: float
    n_windows: int
    model_backtest: BacktestResult
    naive_backtest: BacktestResult
    forecast: pd.DataFrame
    csv_path: Path
    png_path: Path


def run_demo(
    out_dir: str | Path = ".",
    *,
    max_epochs: int = 30,
    start: str = "2010",
    n_windows: int = 8,
    progress_bar: bool = False,
) -> DemoResult:
    """Run the main job and write ``forecast.csv`` and ``forecast.png`` into ``out_dir``.

    Parameters
    ----------
    out_dir : str or Path
        Folder for the output files (created if missing).
    max_epochs : int
        Training budget (early stopping usually ends sooner).
    start : str
        First date of the history used (the bundled MSFT series starts in 1986).
    n_windows : int
        Backtest cutoffs, 5 trading days apart.
    progress_bar : bool
        Show the training progress bar.

    Returns
    -------
    DemoResult

    Examples
    --------
    >>> import tempfile
    >>> result = run_demo(tempfile.mkdtemp(), max_epochs=1, start="2017-01", n_windows=2)
    >>> result.n_windows, sorted(p.name for p in result.csv_path.parent.iterdir())
    (2, ['forecast.csv', 'forecast.png'])
    """
    from matplotlib.figure import Figure  # no pyplot: the caller's backend is left alone

    from forecast.plotting.plots import plot_forecast

    df = load_stock_prices("MSFT").loc[start:]
    lstm = LSTMForecaster(
        seq_len=60,
        horizon=HORIZON,
        target="close",
        past_covariates=["open", "high", "low", "volume"],  # the day's prices and volume
        freq="B",
        scaler="window",
        max_epochs=max_epochs,
        random_state=0,
        progress_bar=progress_bar,
    )
    # Errors are compared step by step (k-th forecast vs k-th next trading day): "B" does
    # not know the exchange's holidays, so dates may differ where a holiday falls.
    model_bt = backtest(lstm, df, n_windows=n_windows, refit=False)
    naive_bt = backtest(NaiveForecaster(horizon=HORIZON, target="close", freq="B"), df,
                        n_windows=n_windows)  # fmt: skip
    model = model_bt.models[-1]  # fitted at the oldest cutoff; forecasts from any history
    forecast = model.predict(df)

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    csv_path, png_path = out / "forecast.csv", out / "forecast.png"
    with atomic_open(csv_path, "w", encoding="utf-8", newline="") as f:
        forecast.to_csv(f)
    figure = Figure(figsize=(9, 4), layout="constrained")
    title = f"MSFT close: next {HORIZON} trading days (LSTM)"
    plot_forecast(forecast, df, figure.subplots(), n_history=120, title=title)
    png = io.BytesIO()
    figure.savefig(png, format="png", dpi=110)
    atomic_write_bytes(png_path, png.getvalue())
    logger.info("wrote %s and %s", csv_path, png_path)
    return DemoResult(
        model_mae=float(model_bt.metrics["mae"].mean()),
        naive_mae=float(naive_bt.metrics["mae"].mean()),
        n_windows=n_windows,
        model_backtest=model_bt,
        naive_backtest=naive_bt,
        forecast=forecast,
        csv_path=csv_path,
        png_path=png_path,
    )
