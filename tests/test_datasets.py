"""The bundled data sets load as documented in datasets/README.md."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from forecast.datasets import STOCK_TICKERS, load_air_passengers, load_stock_prices


def test_stock_prices_of_one_ticker() -> None:
    msft = load_stock_prices("MSFT")
    assert list(msft.columns) == ["open", "high", "low", "close", "volume"]
    assert isinstance(msft.index, pd.DatetimeIndex)
    assert msft.index.is_monotonic_increasing
    assert msft.index[0] == pd.Timestamp("1986-03-13")
    assert msft.index[-1] == pd.Timestamp("2017-11-10")
    assert len(msft) == 7983
    assert (msft.index.day_of_week < 5).all()  # trading days only
    assert (msft["high"] >= msft["low"]).all()


def test_all_tickers_in_long_format() -> None:
    prices = load_stock_prices(None)
    assert {"ticker", "date", "close"} <= set(prices.columns)
    assert sorted(prices["ticker"].unique()) == sorted(STOCK_TICKERS)
    assert prices.groupby("ticker").size().to_dict() == {"MSFT": 7983, "^GSPC": 5031, "^IXIC": 5031}


def test_unknown_ticker_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"'AAPL'.*MSFT"):
        load_stock_prices("AAPL")


def test_air_passengers() -> None:
    air = load_air_passengers()
    assert list(air.columns) == ["passengers"]
    assert len(air) == 144
    assert air.index.freqstr == "MS"
    assert air["passengers"].iloc[0] == 112  # Box & Jenkins, Series G, January 1949
    assert air["passengers"].iloc[-1] == 432  # December 1960


@pytest.mark.slow
def test_the_data_ships_in_the_wheel_and_loads_from_it(tmp_path) -> None:
    # Build the wheel as users get it, unpack it, and load the data from there in a fresh
    # interpreter: nothing may depend on the source checkout's datasets/ folder.
    root = Path(__file__).resolve().parent.parent
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", str(root), "-w", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("forecast-*.whl")
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        assert "forecast/_datasets/stock_prices.csv.gz" in archive.namelist()
        archive.extractall(site)
    code = (
        "import forecast.datasets as d; "
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
    assert out[1:] == ["7983", "144"]
