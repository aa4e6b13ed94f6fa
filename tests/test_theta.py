"""The Theta method: what its definition says, per series, from every origin, with any layout."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import make_long_frame
from conftest import make_smoothing_panel as panel
from scipy.optimize import minimize_scalar

from forecast import MissingHistoryError, ThetaForecaster
from forecast.data.seasonality import seasonal_indices
from forecast.datasets import load_air_passengers
from forecast.forecasters import theta as theta_module

LONG = {"id_col": "unique_id", "time_col": "ds"}


def reference(y: np.ndarray, horizon: int, m: int) -> np.ndarray:
    """The method written out for one series, scalar by scalar (Hyndman & Billah 2003)."""
    y = np.asarray(y, dtype=np.float64)
    n = len(y)
    idx = seasonal_indices(y, m) if m >= 2 else np.ones(1)
    x = y / idx[np.arange(n) % len(idx)]

    def sse(alpha: float) -> float:
        level, total = x[0], 0.0
        for value in x[1:]:
            total += (value - level) ** 2
            level += alpha * (value - level)
        return total

    alpha = minimize_scalar(sse, bounds=(0.001, 0.999), method="bounded",
                            options={"xatol": 1e-10}).x  # fmt: skip
    level = x[0]
    for value in x[1:]:
        level += alpha * (value - level)
    slope = np.polyfit(np.arange(n), x, 1)[0]
    h = np.arange(1, horizon + 1)
    point = level + slope / 2 * (h - 1 + 1 / alpha - (1 - alpha) ** n / alpha)
    return point * idx[(n + h - 1) % len(idx)]


@pytest.mark.parametrize("season", [1, 12])
def test_forecasts_equal_the_method_written_out(season):
    df = panel()
    fc = ThetaForecaster(season_length=season, horizon=8, **LONG).fit(df).predict()
    for sid, g in df.groupby("unique_id"):
        got = fc.loc[fc["unique_id"] == sid, "y"].to_numpy()
        np.testing.assert_allclose(got, reference(g["y"].to_numpy(), 8, season), rtol=1e-6)


def test_the_seasonal_series_are_deseasonalised_and_the_flat_one_stays_flat():
    df = panel()
    model = ThetaForecaster(season_length=12, horizon=12, **LONG).fit(df)
    fc = model.predict()
    seasonal = fc.loc[fc["unique_id"] == "s0", "y"].to_numpy()
    assert np.ptp(seasonal / np.linspace(seasonal[0], seasonal[-1], 12)) > 0.2  # a season
    np.testing.assert_allclose(fc.loc[fc["unique_id"] == "s5", "y"], 7.0)
    assert np.isfinite(fc["y"]).all()
    assert model.alpha_.shape == (6, 1)
    assert ((model.alpha_ >= 0.001) & (model.alpha_ <= 0.999)).all()


def test_predict_from_any_history_refits_on_it_unseen_series_too():
    df = panel()
    model = ThetaForecaster(season_length=12, horizon=5, **LONG).fit(df[df["unique_id"] != "s2"])
    early = df.groupby("unique_id").head(40)
    fc = model.predict(early)
    for sid, g in early.groupby("unique_id"):
        got = fc.loc[fc["unique_id"] == sid, "y"].to_numpy()
        np.testing.assert_allclose(got, reference(g["y"].to_numpy(), 5, 12), rtol=1e-6)


def test_wide_frames_and_several_targets():
    air = load_air_passengers()
    two = air.assign(double=air["passengers"] * 2.0)
    fc = ThetaForecaster(season_length=12, horizon=12).fit(two).predict()
    np.testing.assert_allclose(fc["double"], 2 * fc["passengers"], rtol=1e-9)
    np.testing.assert_allclose(fc["passengers"], reference(air["passengers"].to_numpy(), 12, 12),
                               rtol=1e-6)  # fmt: skip


def test_masked_history_reads_observed_values_only():
    df = make_long_frame()
    complete = ThetaForecaster(horizon=3, missing="mask", **LONG).fit(df).predict()
    pd.testing.assert_frame_equal(complete, ThetaForecaster(horizon=3, **LONG).fit(df).predict())
    gappy = df.copy()
    gappy.loc[gappy.index[5], "y"] = np.nan
    fc = ThetaForecaster(horizon=3, missing="mask", **LONG).fit(gappy).predict()
    assert np.isfinite(fc["y"]).all()
    sid = gappy.loc[gappy.index[5], "unique_id"]
    observed = gappy.loc[(gappy["unique_id"] == sid) & gappy["y"].notna(), "y"].to_numpy()
    # no season: smoothing over the observed values, the slope on their own row numbers
    series = gappy.loc[gappy["unique_id"] == sid, "y"].to_numpy()
    seen = ~np.isnan(series)
    point, _ = theta_module.theta_forecasts(np.nan_to_num(series)[None], seen[None], 3)
    np.testing.assert_allclose(fc.loc[fc["unique_id"] == sid, "y"], point[0])
    assert len(observed) == len(series) - 1


def test_a_history_without_two_observations_is_an_error_naming_the_series():
    df = make_long_frame()
    sid = df["unique_id"].iloc[-1]
    df.loc[(df["unique_id"] == sid) & (df.index != df.index[-1]), "y"] = np.nan
    with pytest.raises(MissingHistoryError, match=rf"1 series have fewer: series '{sid}'\. Give"):
        ThetaForecaster(horizon=3, missing="mask", **LONG).fit(df)


@pytest.mark.parametrize("gap", [1, 6])
def test_a_trailing_gap_is_forecast_from_the_cutoff_as_the_observed_history_gap_steps_on(gap):
    # The forecast h steps after the last row is the method's gap + h steps after the last
    # observation (as the damped trend's and the drift's): not its h steps after it.
    df = panel()
    df = df[df["unique_id"].isin(["s0", "s1"])].reset_index(drop=True)
    last = df.index[df["unique_id"] == "s1"][-gap:]
    gappy = df.copy()
    gappy.loc[last, "y"] = np.nan  # s1 ends in missing values, s0 does not
    model = ThetaForecaster(horizon=4, missing="mask", **LONG)
    fc = model.fit(gappy).predict()
    again = model.predict(gappy)
    cut = gappy.drop(index=last)
    longer = ThetaForecaster(horizon=gap + 4, **LONG).fit(cut).predict()
    for sid, skip in (("s0", 0), ("s1", gap)):
        got = fc.loc[fc["unique_id"] == sid]
        expected = longer.loc[longer["unique_id"] == sid].iloc[skip : skip + 4]
        np.testing.assert_allclose(got["y"], expected["y"], rtol=1e-12)
        np.testing.assert_allclose(again.loc[again["unique_id"] == sid, "y"], got["y"])
        cutoff = gappy.loc[gappy["unique_id"] == sid, "ds"].max()
        assert got["ds"].tolist() == list(pd.date_range(cutoff, periods=5, freq="MS")[1:])
