# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # A nightly forecasting job
#
# What a scheduled batch job does with `forecast`, night after night, through the command
# line (the settings are in `nightly_job.toml` beside this file):
#
# 1. train once on the history (`forecast fit`);
# 2. each night, when the day's prices have arrived: score yesterday's forecasts against
#    them (`forecast score`, appending the scores to a monitoring table), then forecast
#    the next week of every series and **append** the forecasts, with the run's metadata,
#    to a database table (`forecast predict --out sqlite:///... --out-table forecasts`),
#    with a JSON report of the series that could not be served;
# 3. after the last night, retrain from the current weights on the longer history instead
#    of from scratch (`forecast fit --init-from`).
#
# The data is the bundled daily closes of MSFT, the S&P 500 and the NASDAQ Composite. Two
# things go wrong, as they do in real feeds: from the second night the NASDAQ feed stalls
# (its rows stop arriving), and a new ticker, `NEWCO`, appears (synthetic: half of MSFT's
# price, listed 60 trading days ago), which the model has never seen. Neither stops the
# night: `on_bad_series = "fallback"` forecasts them with the naive forecast, marks them in
# the `source` column and says why in the report; the exit status stays 0 while at most
# half the series are bad.
#
# Each command runs here through `forecast.cli.main.main`, the function behind the
# `forecast` command, so the example needs no shell; the equivalent command line is
# printed before each. `FORECAST_EXAMPLES_QUICK=1` (set by the test suite) shrinks the
# training budgets: the numbers it prints are then meaningless.

# %%
import json
import os
import shlex
import sqlite3
from pathlib import Path

import pandas as pd

from forecast.cli.main import main as forecast_cli
from forecast.datasets import load_stock_prices

QUICK = os.environ.get("FORECAST_EXAMPLES_QUICK") == "1"
HERE = Path(__file__).parent if "__file__" in globals() else Path.cwd()
OUT = Path(os.environ.get("FORECAST_EXAMPLES_OUT", HERE / "output")) / "nightly"
OUT.mkdir(parents=True, exist_ok=True)
CONFIG = HERE / "nightly_job.toml"
DB = OUT / "forecasts.db"
DB.unlink(missing_ok=True)  # a fresh table for this run of the example
DB_URL = f"sqlite:///{DB}"
BUDGET = ["--max-epochs", "1", "--hidden-size", "4"] if QUICK else []


def forecast(*args: str) -> int:
    """Run one `forecast` command, as a scheduler would; print it and its exit status."""
    argv = [str(a) for a in args]
    print("$ forecast " + shlex.join(argv))
    status = forecast_cli(["--quiet", *argv])
    print(f"  exit status {status}")
    return status


# %% [markdown]
# ## The data: the history, and three nights of new rows

# %%
prices = load_stock_prices(None)[["ticker", "date", "close"]]
prices = prices[prices["date"] >= ("2017-01-01" if QUICK else "2015-01-01")]
days = sorted(prices.loc[prices["ticker"] == "MSFT", "date"].unique())  # MSFT ends first
nights, train_end = days[-3:], days[-4]
history = prices[prices["date"] <= train_end]
history.to_csv(OUT / "history.csv", index=False)
print(
    f"History: {history['ticker'].nunique()} tickers, {len(history)} rows, to "
    f"{pd.Timestamp(train_end):%Y-%m-%d}; nights: "
    + ", ".join(f"{pd.Timestamp(d):%Y-%m-%d}" for d in nights)
)


def tonight(k: int) -> Path:
    """The data as it stands on night ``k`` (1, 2, 3), written where the job reads it."""
    data = prices[prices["date"] <= nights[k - 1]]
    if k >= 2:  # the NASDAQ feed stalls after the first night
        stalled = (data["ticker"] == "^IXIC") & (data["date"] > nights[0])
        data = data[~stalled]
        msft = data[data["ticker"] == "MSFT"].tail(60)
        newco = msft.assign(ticker="NEWCO", close=msft["close"] / 2)
        data = pd.concat([data, newco], ignore_index=True)
    path = OUT / f"night{k}.csv"
    data.to_csv(path, index=False)
    return path


# %% [markdown]
# ## Train once

# %%
MODEL = OUT / "model.safetensors"
assert (
    forecast("fit", "--config", CONFIG, "--data", OUT / "history.csv", "--out", MODEL, *BUDGET) == 0
)

# %% [markdown]
# ## Three nights
#
# Each night scores the previous night's forecasts (the rows of that night's run, picked by
# their `forecast_origin`) against the prices that arrived since, then forecasts and appends.

# %%
statuses = []
for k in (1, 2, 3):
    data = tonight(k)
    print(f"\nNight {k}, {pd.Timestamp(nights[k - 1]):%Y-%m-%d}:")
    if k > 1:
        yesterday = f"{pd.Timestamp(nights[k - 2]):%Y-%m-%d}"
        query = f"SELECT * FROM forecasts WHERE date(forecast_origin) = '{yesterday}'"
        assert (
            forecast(
                "score", "--forecasts", DB_URL, "--forecasts-query", query,
                "--actuals", data, "--model", MODEL, "--out", DB_URL, "--out-table", "scores",
            )
            == 0
        )  # fmt: skip
    report = OUT / f"report{k}.json"
    status = forecast(
        "predict", "--config", CONFIG, "--model", MODEL, "--data", data,
        "--out", DB_URL, "--out-table", "forecasts", "--report", report,
    )  # fmt: skip
    statuses.append(status)
    bad = json.loads(report.read_text())
    print(f"  report: {bad['n_bad']} of {bad['n_series']} series bad")
    for entry in bad["bad"]:
        print(f"  bad series {entry['id']}: {entry['reason']} -> {entry['action']}")

# %% [markdown]
# What the tables hold after three nights. `forecasts`: one row per series and day ahead,
# each with the model that made it (its checksum), the library version, when it was made,
# its origin, and whether it came from the model or the fallback. `scores`: per night, the
# errors of the previous night's forecasts, per series and over all of them (the rows a
# dashboard or an alert reads), with the library version and when they were computed.

# %%
with sqlite3.connect(DB) as db:
    table = pd.read_sql("SELECT * FROM forecasts", db)
    scores = pd.read_sql("SELECT * FROM scores WHERE scope = 'overall'", db)
summary = table.groupby(["forecast_origin", "source"])["ticker"].agg(["nunique", "size"])
print(f"Forecast table: {len(table)} rows, exit statuses of the nights {statuses}")
print(summary.to_string())
print(f"Scores table, overall rows ({len(scores)}, one per scored night):")
print(scores[["target", "n", "mae", "smape", "created_at"]].to_string(index=False))

# %% [markdown]
# ## Retrain from the current weights
#
# After the third night the model is retrained on the longer history, starting from its
# weights and scalers (`--init-from`; the weights blended with a fresh start, as
# `warm_start_shrink` says) with a quarter of the budget: a new series (`NEWCO`) gets
# statistics of its own; a stalled one keeps training on what it has. A change of network
# or inputs would be refused, naming the difference.

# %%
RETRAINED = OUT / "model_retrained.safetensors"
retrain = ["--max-epochs", "1" if QUICK else "5"]
status = forecast(
    "fit", "--config", CONFIG, "--init-from", MODEL, "--data", tonight(3), "--out", RETRAINED,
    *BUDGET[2:], *retrain,
)  # fmt: skip
print(f"Retrained with a warm start: exit status {status}")
