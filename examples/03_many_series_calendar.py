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
# # Many series with calendar covariates known in advance
#
# Daily sales of many stores, each with its own level, history length and end date, and
# with patterns tied to the calendar: a weekly cycle (busy Fridays and Saturdays), a pay-day
# bump in the first days of each month, and a yearly swing. The calendar of the coming
# days is known today, so it can be given to the model for the forecast horizon: these
# are **known-future covariates**.
#
# The data is synthetic (made below, with a fixed seed) so that the truth is known: one
# global LSTM learns all stores at once, with and without the calendar, against the
# seasonal naive forecast (the same weekday a week earlier).
#
# `FORECAST_EXAMPLES_QUICK=1` (set by the test suite) shrinks data and budgets: the numbers
# it prints are then meaningless.

# %%
import os
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone

from forecast import LSTMForecaster, SeasonalNaiveForecaster
from forecast.backtest import backtest
from forecast.features import calendar_features
from forecast.plotting import plot_backtest, plot_forecast, plot_history

QUICK = os.environ.get("FORECAST_EXAMPLES_QUICK") == "1"
HERE = Path(__file__).parent if "__file__" in globals() else Path.cwd()
OUT = Path(os.environ.get("FORECAST_EXAMPLES_OUT", HERE / "output"))
OUT.mkdir(parents=True, exist_ok=True)

N_STORES = 6 if QUICK else 20
N_DAYS = 160 if QUICK else 400  # the longest history; others are up to 30% shorter
EPOCHS = 2 if QUICK else 15
SEQ_LEN, HIDDEN = (14, 8) if QUICK else (28, 32)
WINDOWS = 2 if QUICK else 4
HORIZON = 14  # two weeks ahead


# %%
def store_sales(n_stores: int, n_days: int, seed: int = 0) -> pd.DataFrame:
    """Daily sales of ``n_stores`` stores, long format: store, date, sales."""
    rng = np.random.default_rng(seed)
    weekly = np.array([0.9, 0.85, 0.9, 1.0, 1.2, 1.4, 0.75])  # Monday .. Sunday
    parts = []
    for i in range(n_stores):
        length = int(rng.integers(int(0.7 * n_days), n_days + 1))
        end = pd.Timestamp("2024-06-30") - pd.Timedelta(days=int(rng.integers(0, 10)))
        dates = pd.date_range(end=end, periods=length, freq="D")
        week = 1 + rng.uniform(0.6, 1.4) * (weekly[dates.day_of_week] - 1)
        pay_day = np.where(dates.day <= 3, 1.25, 1.0)
        year = 1 + 0.15 * np.sin(2 * np.pi * (dates.day_of_year - 80) / 365.25)
        noise = 1 + 0.05 * rng.standard_normal(length)
        level = rng.uniform(50, 300)
        parts.append(
            pd.DataFrame(
                {
                    "store": f"store_{i:02d}",
                    "date": dates,
                    "sales": level * week * pay_day * year * noise,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


sales = store_sales(N_STORES, N_DAYS)
lengths = sales.groupby("store").size()
print(
    f"{sales['store'].nunique()} stores, {len(sales)} rows; histories of "
    f"{lengths.min()} to {lengths.max()} days, ending between "
    f"{sales.groupby('store')['date'].max().min():%Y-%m-%d} and {sales['date'].max():%Y-%m-%d}"
)

# %% [markdown]
# ## Calendar features
#
# `calendar_features` turns timestamps into positions in their cycles, scaled to
# `[-0.5, 0.5]`; for daily data: day of week, day of month, day of year and month. They are
# computed for any date, past or future.

# %%
calendar = calendar_features(sales["date"], "D")  # indexed like the rows of `sales`
data = pd.concat([sales, calendar], axis=1)
FUTURE = list(calendar.columns)
print("Known-future covariates:", FUTURE)
print(data.head(3).round(dict.fromkeys(["sales", *FUTURE], 3)).to_string(index=False))

# %% [markdown]
# ## Backtest: with the calendar, without it, and the benchmark
#
# One global LSTM per variant; `refit=False` fits it once at the oldest cutoff of each
# store and forecasts the later windows from their own histories. In the backtest the
# calendar over each horizon is read from the frame, as it would be known at the cutoff.

# %%
common = dict(
    seq_len=SEQ_LEN,
    horizon=HORIZON,
    id_col="store",
    time_col="date",
    target="sales",
    freq="D",
    hidden_size=HIDDEN,
    batch_size=128,
    max_epochs=EPOCHS,
    random_state=0,
)
with_calendar = LSTMForecaster(**common, future_covariates=FUTURE)
without = LSTMForecaster(**common)
snaive = SeasonalNaiveForecaster(
    season_length=7, horizon=HORIZON, id_col="store", time_col="date", target="sales", freq="D"
)
options = {"n_windows": WINDOWS, "season_length": 7}  # MASE against the weekly naive
results = {
    "LSTM + calendar": backtest(with_calendar, data, refit=False, **options),
    "LSTM, no calendar": backtest(without, sales, refit=False, **options),
    "seasonal naive (7 days)": backtest(snaive, sales, **options),
}
summary = pd.DataFrame({name: r.summary().loc["sales"] for name, r in results.items()}).T
print(f"{N_STORES} stores x {WINDOWS} windows of {HORIZON} days, averaged:")
print(summary.round(3).to_string())
mase = pd.DataFrame(
    {name: r.metrics.groupby("store")["mase"].mean() for name, r in results.items()}
)
better = int((mase["LSTM + calendar"] < mase["seasonal naive (7 days)"]).sum())
print(f"LSTM + calendar beats the seasonal naive forecast on {better} of {N_STORES} stores")

# %%
ax = mase.plot.box(figsize=(8, 3.5), title="MASE per store (lower is better)")
ax.figure.savefig(OUT / "stores_mase.png", dpi=100, bbox_inches="tight")
fig = plot_backtest(results["LSTM + calendar"], series="store_00")
fig.savefig(OUT / "stores_backtest.png", dpi=100)
ax = plot_history(results["LSTM + calendar"].models[0])
ax.figure.savefig(OUT / "stores_training.png", dpi=100)

# %% [markdown]
# ## Forecasting the next two weeks
#
# At predict time the model needs the calendar of the `horizon` days after each store's
# end. `make_future_frame()` lays out those days for every store (each from its own end)
# with the calendar features it was trained with already filled in; a covariate it cannot
# compute (a promotion, a price) would be left NaN for us to fill, and `predict` names any
# NaN left.

# %%
model = with_calendar.fit(data)
future = model.make_future_frame()
print("Future frame:", future.shape, "NaN left:", int(future.isna().sum().sum()))
forecast = model.predict(future_covariates=future)
print(forecast.head(HORIZON).round({"sales": 1}).to_string(index=False))

# plot_forecast shows at most 6 series (max_series) and warns about the rest: pick them.
fig = plot_forecast(forecast, data, ids=["store_00", "store_01", "store_02"], n_history=56)
fig.savefig(OUT / "stores_forecast.png", dpi=100)

# %% [markdown]
# ## Prediction intervals: two ways, checked over the backtest
#
# "How sure" comes in two forms, both written as quantile columns next to the point
# forecast (`sales_q0.1`, `sales_q0.9`: the 80% interval):
#
# - **Quantile regression** (`quantiles=[0.1, 0.5, 0.9]`): the network emits each quantile
#   and is trained with the pinball loss; the median is the point forecast.
# - **Conformal intervals** (`intervals="conformal", coverage=0.8`): any point model
#   (here the seasonal naive too) is first fitted without its last
#   `calibration_windows + horizon - 1` days, its errors on those days set the interval
#   half-width per horizon step, then it is refitted on everything. The assumption: the
#   errors to come look like the recent ones (exchangeable).
#
# An interval is worth what its coverage is: over the backtest windows, the fraction of
# actual sales inside the 80% interval should be near 0.8. The Winkler score rewards
# narrow intervals and penalises misses (lower is better).

# %%
quantile_lstm = LSTMForecaster(**common, future_covariates=FUTURE, quantiles=[0.1, 0.5, 0.9])
conformal_lstm = LSTMForecaster(
    **common, future_covariates=FUTURE, intervals="conformal", coverage=0.8
)
conformal_naive = clone(snaive).set_params(intervals="conformal", coverage=0.8)
interval_results = {
    "LSTM quantiles": backtest(quantile_lstm, data, refit=False, **options),
    "LSTM conformal": backtest(conformal_lstm, data, refit=False, **options),
    "seasonal naive conformal": backtest(conformal_naive, sales, **options),
}
interval_summary = pd.DataFrame(
    {name: r.summary().loc["sales"] for name, r in interval_results.items()}
).T[["mase", "coverage_80", "width_80", "winkler_80"]]
print(f"80% intervals over {N_STORES} stores x {WINDOWS} windows of {HORIZON} days:")
print(interval_summary.round(3).to_string())

# %% [markdown]
# Read the coverage as an estimate: the windows overlap in time and the errors of one store
# over 14 days are correlated, so a few hundred points are not a few hundred independent
# checks. Coverage far below the target (say under 0.7) means the intervals are too narrow
# for this data; a wider interval with the same Winkler score is the safer choice.

# %%
interval_model = quantile_lstm.fit(data)
interval_forecast = interval_model.predict(future_covariates=future)
quantile_columns = ["sales", "sales_q0.1", "sales_q0.5", "sales_q0.9"]
print(interval_forecast.head(3).round(dict.fromkeys(quantile_columns, 1)).to_string(index=False))
fig = plot_forecast(interval_forecast, data, ids=["store_00", "store_01"], n_history=56)
fig.savefig(OUT / "stores_intervals.png", dpi=100)
