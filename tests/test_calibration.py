"""Calibration checked, not assumed: 80 % intervals cover about 80 % of a long test span.

The fast version of ``benchmarks/interval_calibration.py``: an AR(1) with heteroscedastic
Gaussian noise, ``y[t] = 0.6 y[t-1] + (0.5 + 0.5 |y[t-1]|) e[t]``, whose one-step
conditional quantiles are known. Each method is fitted on 3000 rows and forecasts the next
10000 rows one step ahead (one fit; ``backtest(refit=False)`` forecasts from each origin).

**Tolerance: |coverage - 0.80| <= 0.05.** Its parts, each at about 3 standard errors:

* the test span: the binomial standard error of 10000 hits is ``sqrt(0.8 · 0.2 / 10000) =
  0.004`` (0.012 at 3 SE); the oracle interval (the true quantiles) stays within it;
* conformal: the calibrated width is an empirical quantile of 1500 scores whose volatility
  clusters; over 100 simulated series the coverage of naive-forecast conformal intervals
  (which train nothing) spread by 0.013-0.017 around 0.80: 0.04-0.05 at 3 SD;
* quantile regression: the network's estimation error. A small network trained for a few
  seconds puts its 0.1 and 0.9 quantiles within about 0.1 of the truth (in units of y,
  whose 80 % interval is about 2.4 wide), which moves coverage by up to about 0.04.

The benchmark script runs longer spans and reports widths against the oracle's.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest

from forecast import RNNForecaster
from forecast.backtest import backtest
from forecast.metrics import coverage, interval_width

N_TRAIN, N_TEST, TOLERANCE = 3000, 10000, 0.05
NETWORK = {
    "cell": "rnn",
    "seq_len": 2,  # the process is Markov: y[t-1] is all there is to know
    "horizon": 1,
    "hidden_size": 16,
    "batch_size": 256,
    "learning_rate": 1e-2,
    "validation_size": 0,
    "random_state": 0,
    "progress_bar": False,
}

pytestmark = pytest.mark.slow


def ar1_heteroscedastic(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    e = rng.standard_normal(n + 500)
    y = np.zeros(n + 500)
    for t in range(1, n + 500):
        y[t] = 0.6 * y[t - 1] + (0.5 + 0.5 * abs(y[t - 1])) * e[t]
    index = pd.date_range("2000-01-01", periods=n, freq="D", name="date")
    return pd.DataFrame({"y": y[500:]}, index=index)


@pytest.fixture(scope="module")
def series() -> pd.DataFrame:
    return ar1_heteroscedastic(N_TRAIN + N_TEST)


def _test_span_coverage(model: RNNForecaster, df: pd.DataFrame) -> tuple[float, float]:
    fc = backtest(model, df, n_windows=N_TEST, step=1, refit=False).forecasts
    y, lo, hi = fc["actual"], fc["forecast_q0.1"], fc["forecast_q0.9"]
    return coverage(y, lo, hi), interval_width(lo, hi)


def test_the_oracle_interval_covers_within_the_binomial_error(series):
    y = series["y"].to_numpy()[-N_TEST - 1 :]
    half = NormalDist().inv_cdf(0.9) * (0.5 + 0.5 * np.abs(y[:-1]))
    assert coverage(y[1:], 0.6 * y[:-1] - half, 0.6 * y[:-1] + half) == pytest.approx(
        0.8, abs=3 * np.sqrt(0.8 * 0.2 / N_TEST)
    )


def test_quantile_regression_is_calibrated(series):
    model = RNNForecaster(quantiles=[0.1, 0.5, 0.9], max_epochs=20, **NETWORK)
    covered, width = _test_span_coverage(model, series)
    assert covered == pytest.approx(0.8, abs=TOLERANCE)
    assert 1.5 < width < 3.5  # the oracle's mean width is about 2.4


def test_conformal_intervals_are_calibrated(series):
    # Few epochs: the model's accuracy sets the width, calibration sets the coverage.
    model = RNNForecaster(
        intervals="conformal", coverage=0.8, calibration_windows=1500, max_epochs=5, **NETWORK
    )
    covered, width = _test_span_coverage(model, series)
    assert covered == pytest.approx(0.8, abs=TOLERANCE)
    assert 1.5 < width < 4.0
