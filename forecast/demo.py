"""The README's main job on bundled data: train, backtest against naive, write CSV and PNG.

An LSTM learns Microsoft's daily close from the last 60 trading days (with open, high, low
and volume as past covariates); its last 5 trading days are held out and forecast by both
the LSTM and the naive last-value forecast; then the LSTM forecasts the 5 trading days
after the data ends (from the full history, without refitting) into ``forecast.csv`` and
``forecast.png``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.datasets import load_stock_prices
from forecast.estimator import LSTMForecaster

__all__ = ["DemoResult", "run_demo"]

logger = logging.getLogger("forecast")


@dataclass
class DemoResult:
    """Numbers and files the demo produced."""

    model_mae: float
    naive_mae: float
    forecast: pd.DataFrame
    csv_path: Path
    png_path: Path


def run_demo(
    out_dir: str | Path = ".",
    *,
    max_epochs: int = 30,
    start: str = "2010",
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
    progress_bar : bool
        Show Lightning's progress bar.

    Returns
    -------
    DemoResult
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from forecast.plotting import plot_forecast

    horizon = 5
    df = load_stock_prices("MSFT").loc[start:]
    train, test = df.iloc[:-horizon], df.iloc[-horizon:]
    model = LSTMForecaster(
        seq_len=60,
        horizon=horizon,
        target="close",
        freq="B",
        scaler="window",
        max_epochs=max_epochs,
        random_state=0,
        progress_bar=progress_bar,
    )
    model.fit(train)
    # Compared step by step (k-th forecast vs k-th next trading day): "B" does not know the
    # exchange's holidays, so dates may differ where a holiday falls in the horizon.
    predicted = model.predict()["close"].to_numpy()
    actual = test["close"].to_numpy()
    naive = np.repeat(train["close"].iloc[-1], horizon)
    model_mae = float(np.mean(np.abs(predicted - actual)))
    naive_mae = float(np.mean(np.abs(naive - actual)))

    forecast = model.predict(df)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    csv_path, png_path = out / "forecast.csv", out / "forecast.png"
    forecast.to_csv(csv_path)
    ax = plot_forecast(
        forecast, df, n_history=120, title=f"MSFT close: next {horizon} trading days (LSTM)"
    )
    ax.figure.savefig(png_path, dpi=120)
    plt.close(ax.figure)
    logger.info("wrote %s and %s", csv_path, png_path)
    return DemoResult(
        model_mae=model_mae,
        naive_mae=naive_mae,
        forecast=forecast,
        csv_path=csv_path,
        png_path=png_path,
    )
