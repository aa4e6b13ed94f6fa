"""The bundled data sets load as documented in datasets/README.md.

That they ship in the wheel and load from it: tests/test_packaging.py.
"""

from __future__ import annotations

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
