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
# # Stock prices: an LSTM against the naive forecast
#
# Daily closing prices are close to a *random walk*: tomorrow's price is today's plus a
# change that the past does not predict. If that holds, no model can do much better than
# the **naive forecast** (the last price, repeated). We check both things on the bundled
# data: first Microsoft alone, then MSFT, the S&P 500 and the NASDAQ Composite as one
# panel, with one global LSTM.
#
# Run it as a script (`python examples/01_stock_prices.py`) or open it as a notebook
# (`jupytext --to notebook`, or VS Code / PyCharm, which read `# %%` cells). With
# `FORECAST_EXAMPLES_QUICK=1` (set by the test suite) the budgets are tiny and the numbers
# meaningless; only the code path is checked.

# %%
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from forecast import LSTMForecaster, NaiveForecaster
from forecast.backtest import backtest
from forecast.datasets import load_stock_prices
from forecast.plotting import plot_backtest, plot_forecast, plot_history

QUICK = os.environ.get("FORECAST_EXAMPLES_QUICK") == "1"
HERE = Path(__file__).parent if "__file__" in globals() else Path.cwd()
OUT = Path(os.environ.get("FORECAST_EXAMPLES_OUT", HERE / "output"))
OUT.mkdir(parents=True, exist_ok=True)

START = "2017" if QUICK else "2012"  # history used: the last years are enough here
EPOCHS = 2 if QUICK else 30
SEQ_LEN, HIDDEN = (20, 8) if QUICK else (60, 32)  # trading days read; network width
WINDOWS = 3 if QUICK else 12  # cutoffs of the backtest, 5 trading days apart
HORIZON = 5  # one trading week

# %% [markdown]
# ## One ticker: is it a random walk?
#
# If the price is a random walk, its daily changes are uncorrelated: the autocorrelation
# of daily log returns stays inside the band `±2/√n` that pure noise would stay in.

# %%
msft = load_stock_prices("MSFT").loc[START:]
returns = np.log(msft["close"]).diff().dropna()
acf = pd.Series({lag: returns.autocorr(lag) for lag in range(1, 11)})
band = 2 / np.sqrt(len(returns))
print(f"MSFT {msft.index[0]:%Y-%m-%d} to {msft.index[-1]:%Y-%m-%d}: {len(msft)} trading days")
print("Autocorrelation of daily log returns, lags 1-10:", acf.round(3).tolist())
print(f"{int((acf.abs() > band).sum())} of 10 lags outside the noise band ±{band:.3f}")

fig, (price_ax, acf_ax) = plt.subplots(2, 1, figsize=(9, 5.5), layout="constrained")
price_ax.plot(msft.index, msft["close"], color="0.3")
price_ax.set(title="MSFT close (USD)", ylabel="close")
acf_ax.axhspan(-band, band, color="0.88", zorder=0, label="noise band ±2/√n")
acf_ax.bar(acf.index, acf.to_numpy(), color="tab:blue", zorder=2, label="autocorrelation")
acf_ax.axhline(0, color="0.3", lw=0.8)
acf_ax.set(title="Autocorrelation of daily log returns", xlabel="lag (trading days)")
acf_ax.legend(loc="upper right")
fig.savefig(OUT / "stock_random_walk.png", dpi=100)

# %% [markdown]
# ## LSTM vs. naive over many cutoffs
#
# `backtest` puts a cutoff every 5 trading days at the end of the data. With
# `refit=False` one LSTM is fitted at the oldest cutoff (on the history up to it only)
# and forecasts every later window from that window's own history, as a scheduled job
# would. `scaler="window"` scales each input window by its own statistics, which suits a
# trending price. Open, high, low and volume are past covariates.

# %%
lstm = LSTMForecaster(
    seq_len=SEQ_LEN,
    horizon=HORIZON,
    target="close",
    freq="B",
    scaler="window",
    hidden_size=HIDDEN,
    max_epochs=EPOCHS,
    random_state=0,
)
naive = NaiveForecaster(horizon=HORIZON, target="close", freq="B")
lstm_bt = backtest(lstm, msft, n_windows=WINDOWS, refit=False)
naive_bt = backtest(naive, msft, n_windows=WINDOWS)

table = pd.DataFrame(
    {"LSTM": lstm_bt.summary().loc["close"], "naive": naive_bt.summary().loc["close"]}
).T
print(f"MSFT, {WINDOWS} windows of {HORIZON} trading days (MAE, RMSE in USD):")
print(table.round(3).to_string())
per_window = pd.DataFrame(
    {"LSTM": lstm_bt.metrics["mae"].to_numpy(), "naive": naive_bt.metrics["mae"].to_numpy()},
    index=lstm_bt.metrics["cutoff"].dt.strftime("%Y-%m-%d"),
)
wins = int((per_window["LSTM"] < per_window["naive"]).sum())
ratio = table.loc["LSTM", "mae"] / table.loc["naive", "mae"]
print(f"LSTM better than naive in {wins} of {WINDOWS} windows; MAE ratio LSTM/naive {ratio:.2f}")

# %% [markdown]
# Read the numbers for what they are. A ratio above 1 means the naive forecast was
# better; a ratio a little below 1 over a dozen windows is within what luck gives. The
# MASE (the error divided by the in-sample error of the one-step naive forecast) is above
# 1 for both: forecasting five days ahead is harder than one.

# %%
if ratio >= 1:
    print("Verdict: the naive forecast was at least as good as the LSTM, as a random walk implies.")
else:
    print(
        f"Verdict: the LSTM was {100 * (1 - ratio):.0f}% better on average, over {WINDOWS} "
        "windows only: no evidence against a random walk."
    )

fig = plot_backtest(lstm_bt, title="MSFT: LSTM forecasts at each cutoff")
fig.savefig(OUT / "stock_backtest.png", dpi=100)
ax = per_window.plot.bar(figsize=(9, 3.5), rot=45, title="MAE per cutoff (USD)")
ax.figure.savefig(OUT / "stock_mae_per_window.png", dpi=100, bbox_inches="tight")
ax = plot_history(lstm_bt.models[0])
ax.figure.savefig(OUT / "stock_training.png", dpi=100)

# %% [markdown]
# ## All tickers as one panel
#
# A long frame (`ticker, date, ...`) fits one global LSTM over the three series; windows
# never cross two series and each series is scaled on its own. MSFT ends in 2017, the
# indexes in 2018: cutoffs count from each series' own end. MASE is scale-free, so it
# compares tickers whose prices differ a hundredfold.

# %%
prices = load_stock_prices(None)
prices = prices[prices["date"] >= START]
panel = {"id_col": "ticker", "time_col": "date", "target": "close", "freq": "B"}
panel_lstm = lstm.set_params(**panel)  # same network settings, long layout
panel_naive = NaiveForecaster(horizon=HORIZON, **panel)
lstm_panel_bt = backtest(panel_lstm, prices, n_windows=WINDOWS, refit=False)
naive_panel_bt = backtest(panel_naive, prices, n_windows=WINDOWS)
by_ticker = pd.DataFrame(
    {
        "LSTM MASE": lstm_panel_bt.metrics.groupby("ticker")["mase"].mean(),
        "naive MASE": naive_panel_bt.metrics.groupby("ticker")["mase"].mean(),
    }
)
by_ticker["LSTM/naive"] = by_ticker["LSTM MASE"] / by_ticker["naive MASE"]
print("Panel of 3 tickers, mean MASE over windows:")
print(by_ticker.round(3).to_string())

# %% [markdown]
# Ratios a few percent either side of 1, over a dozen one-week windows, are what luck
# gives: the global LSTM does not find anything in the past prices that the last price
# does not already hold. That is the random walk, seen from the forecaster's side.

# %%
fig = plot_backtest(lstm_panel_bt, series="^GSPC", metric="mase")
fig.savefig(OUT / "stock_panel_backtest.png", dpi=100)

# %% [markdown]
# Finally, the model fitted on all the data forecasts the next week of every ticker.

# %%
final = panel_lstm.fit(prices)
print(final.predict().round({"close": 2}).to_string(index=False))
fig = plot_forecast(final, prices, n_history=60)
fig.savefig(OUT / "stock_panel_forecast.png", dpi=100)
