"""Baselines forecast what their definitions say, on wide and long data, and round-trip state."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import make_long_frame, make_sine_frame
from sklearn.base import clone

from forecast import (
    DataError,
    DriftForecaster,
    InvalidParameterError,
    ModelFileError,
    NaiveForecaster,
    SeasonalNaiveForecaster,
)
from forecast.datasets import load_air_passengers
from forecast.protocol import DATA_ATTRIBUTES

LONG = {"id_col": "unique_id", "time_col": "ds"}
COMMON = DATA_ATTRIBUTES  # the common fitted attributes, as forecast declares them


def _tail(frame: pd.DataFrame, sid: str, n: int) -> np.ndarray:
    return frame.loc[frame["unique_id"] == sid, "y"].to_numpy()[-n:]


def test_naive_repeats_the_last_value_exactly():
    frame = make_sine_frame()
    forecast = NaiveForecaster(horizon=4).fit(frame).predict()
    assert (forecast.to_numpy() == frame.iloc[-1].to_numpy()).all()


def test_seasonal_naive_repeats_the_last_season_and_wraps():
    df = load_air_passengers()
    forecast = SeasonalNaiveForecaster(season_length=12, horizon=18).fit(df).predict()
    last_year = df["passengers"].to_numpy()[-12:]
    np.testing.assert_array_equal(forecast["passengers"].to_numpy()[:12], last_year)
    np.testing.assert_array_equal(forecast["passengers"].to_numpy()[12:], last_year[:6])
    assert forecast.index[0] == pd.Timestamp("1961-01-01")


def test_drift_extends_the_line_from_first_to_last():
    frame = make_long_frame()
    model = DriftForecaster(horizon=2, **LONG).fit(frame)
    forecast = model.predict()
    for sid in ("a", "b", "c"):
        y = frame.loc[frame["unique_id"] == sid, "y"].to_numpy()
        slope = (y[-1] - y[0]) / (len(y) - 1)
        got = forecast.loc[forecast["unique_id"] == sid, "y"].to_numpy()
        np.testing.assert_allclose(got, [y[-1] + slope, y[-1] + 2 * slope])


@pytest.mark.parametrize("estimator", [NaiveForecaster, SeasonalNaiveForecaster])
def test_long_data_each_series_from_its_own_end(estimator):
    frame = make_long_frame()
    params = {"season_length": 3} if estimator is SeasonalNaiveForecaster else {}
    forecast = estimator(horizon=3, **params, **LONG).fit(frame).predict()
    m = params.get("season_length", 1)
    for sid in ("a", "b", "c"):
        got = forecast.loc[forecast["unique_id"] == sid, "y"].to_numpy()
        np.testing.assert_array_equal(got, np.resize(_tail(frame, sid, m), 3))


def test_predict_on_newer_data_reads_it_without_refit():
    frame = make_long_frame()
    train = frame.groupby("unique_id").head(30)  # the first 30 months of each series
    drift = DriftForecaster(horizon=1, **LONG).fit(train)
    naive = NaiveForecaster(horizon=1, **LONG).fit(train)
    new_drift, new_naive = drift.predict(frame), naive.predict(frame)
    for i, sid in enumerate(drift.series_ids_):
        last = _tail(frame, sid, 1)
        np.testing.assert_allclose(new_naive.loc[i, "y"], last[0])
        # The slope is the fitted one; only the level comes from the newer data.
        np.testing.assert_allclose(new_drift.loc[i, "y"], last[0] + drift.slope_[i, 0])


def test_unseen_series_naive_forecasts_them_drift_names_them():
    frame = make_long_frame()
    seen = frame[frame["unique_id"] != "c"]
    forecast = NaiveForecaster(**LONG).fit(seen).predict(frame)
    assert set(forecast["unique_id"]) == {"a", "b", "c"}
    with pytest.raises(DataError, match=r"Series \['c'\] were not seen at fit"):
        DriftForecaster(**LONG).fit(seen).predict(frame)


def test_target_selection_and_ignored_covariates():
    frame = make_sine_frame()
    model = NaiveForecaster(target="y").fit(frame)
    assert model.target_names_ == ["y"]
    assert model.covariate_names_ == ["x"]
    assert list(model.predict().columns) == ["y"]


def test_integer_ids_keep_their_dtype_and_read_well_in_messages():
    frame = make_long_frame()
    frame["unique_id"] = frame["unique_id"].map({"a": 3, "b": 5, "c": 7}).astype("int64")
    forecast = NaiveForecaster(**LONG).fit(frame).predict()
    assert forecast["unique_id"].dtype == np.int64
    short = frame[(frame["unique_id"] != 5) | (frame["ds"] < "2001-07-01")]  # 5 has 1 row
    with pytest.raises(DataError, match=r"series 5 has 1 row\(s\), but DriftForecaster needs 2"):
        DriftForecaster(**LONG).fit(short)


def test_parameter_and_history_errors():
    frame = make_sine_frame()
    with pytest.raises(
        InvalidParameterError, match="'season_length' parameter of SeasonalNaiveForecaster"
    ):
        SeasonalNaiveForecaster(season_length=0).fit(frame)
    with pytest.raises(InvalidParameterError, match="'freq' parameter must be a pandas"):
        NaiveForecaster(freq="fortnightly-ish").fit(frame)
    model = SeasonalNaiveForecaster(season_length=7).fit(frame)
    with pytest.raises(DataError, match=r"forecast from: the series has 5 row\(s\).* needs 7"):
        model.predict(frame.iloc[:5])


@pytest.mark.parametrize(
    "estimator",
    [
        NaiveForecaster(horizon=4),
        SeasonalNaiveForecaster(season_length=5, horizon=7),
        DriftForecaster(horizon=2),
    ],
    ids=["naive", "seasonal_naive", "drift"],
)
@pytest.mark.parametrize("layout", ["wide", "long"])
def test_persistence_protocol_round_trip(estimator, layout):
    frame, params = (make_sine_frame(), {}) if layout == "wide" else (make_long_frame(), LONG)
    fitted = clone(estimator).set_params(**params).fit(frame)
    restored = type(fitted)(**fitted.get_params())
    for name in COMMON:
        setattr(restored, name, getattr(fitted, name))
    arrays = fitted._fitted_arrays()
    assert all(isinstance(a, np.ndarray) for a in arrays.values())
    restored._restore_fitted(arrays)
    pd.testing.assert_frame_equal(restored.predict(), fitted.predict())
    pd.testing.assert_frame_equal(restored.predict(frame), fitted.predict(frame))


def test_restore_refuses_state_of_another_model():
    state = NaiveForecaster().fit(make_sine_frame())._fitted_arrays()
    with pytest.raises(ModelFileError, match=r"lacks \['slope_'\]"):
        DriftForecaster()._restore_fitted(state)


@pytest.mark.parametrize(
    "baseline",
    [NaiveForecaster(), SeasonalNaiveForecaster(season_length=12), DriftForecaster()],
    ids=lambda b: type(b).__name__,
)
def test_baselines_save_load_and_card(baseline, tmp_path, long_frame) -> None:
    model = clone(baseline).set_params(id_col="unique_id", time_col="ds", horizon=3)
    model.fit(long_frame)
    model.save(tmp_path / "baseline.safetensors")
    loaded = type(model).load(tmp_path / "baseline.safetensors")
    pd.testing.assert_frame_equal(loaded.predict(), model.predict(), check_exact=True)
    assert type(model).__name__ in str(model.card())
