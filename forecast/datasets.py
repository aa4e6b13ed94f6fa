"""Loaders for the real data sets bundled in ``datasets/`` (source and licence: its README).

The files ship inside the wheel as ``forecast/_datasets``; in a source checkout they are read
from the repository's ``datasets/`` folder. Nothing is downloaded.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

from forecast._exceptions import DataError

__all__ = ["STOCK_TICKERS", "load_air_passengers", "load_stock_prices"]

STOCK_TICKERS = ("MSFT", "^GSPC", "^IXIC")


def _data_path(name: str) -> Path:
    packaged = resources.files("forecast") / "_datasets" / name
    if packaged.is_file():
        return Path(str(packaged))
    source = Path(__file__).resolve().parent.parent / "datasets" / name
    if source.is_file():
        return source
    raise FileNotFoundError(
        f"Bundled data file {name!r} not found in the package or in {source.parent}; "
        "reinstall forecast."
    )


def load_stock_prices(ticker: str | None = "MSFT") -> pd.DataFrame:
    """Daily open, high, low, close and volume of real trading days.

    Three series: Microsoft (``"MSFT"``, 1986-03-13 to 2017-11-10, split- and
    dividend-adjusted), the S&P 500 index (``"^GSPC"``) and the NASDAQ Composite
    (``"^IXIC"``), both 1999-01-04 to 2018-12-31. Trading days only: weekends and market
    holidays are absent, so use ``freq="B"``.

    Parameters
    ----------
    ticker : str or None, default "MSFT"
        One of :data:`STOCK_TICKERS` for a wide frame of that series, indexed by ``date``;
        ``None`` for all of them in long format (columns ``ticker, date, open, ...``).

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> df = load_stock_prices()
    >>> list(df.columns)
    ['open', 'high', 'low', 'close', 'volume']
    >>> df.index[:2].strftime("%Y-%m-%d").tolist()
    ['1986-03-13', '1986-03-14']
    """
    data = pd.read_csv(_data_path("stock_prices.csv.gz"), parse_dates=["date"])
    data["volume"] = data["volume"].astype("float64")
    if ticker is None:
        return data
    if ticker not in STOCK_TICKERS:
        raise DataError(f"Unknown ticker {ticker!r}; bundled: {list(STOCK_TICKERS)}.")
    one = data[data["ticker"] == ticker].drop(columns="ticker").set_index("date")
    return one


def load_air_passengers() -> pd.DataFrame:
    """Monthly international airline passengers (thousands), 1949-01 to 1960-12.

    The classic Box & Jenkins series G: trend and multiplicative yearly seasonality.

    Returns
    -------
    pandas.DataFrame
        One column ``passengers`` indexed by month start (``freq="MS"``).

    Examples
    --------
    >>> df = load_air_passengers()
    >>> df.shape
    (144, 1)
    """
    data = pd.read_csv(_data_path("air_passengers.csv"), parse_dates=["month"])
    data["passengers"] = data["passengers"].astype("float64")
    data = data.set_index("month")
    data.index = pd.DatetimeIndex(data.index, freq="MS")  # checks the months are consecutive
    return data
