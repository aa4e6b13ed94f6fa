"""Many series in one global model: long layout, covariates, short series, batched predict."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast import DataError, GRUForecaster, InvalidParameterError, LSTMForecaster, RNNForecaster
from forecast.data.panel import to_panel
from forecast.features import calendar_features
from tests.conftest import FAST

LONG = {"id_col": "unique_id", "time_col": "ds", "target": "y"}


def _promo_panel(n_series: int = 4, n: int = 80, seed: int = 0) -> pd.DataFrame:
    """Daily sales that jump by 5 on promotion days, which are known in advance."""
    rng = np.random.default_rng(seed)
    parts = []
    for s in range(n_series):
        promo = (rng.random(n) < 0.25).astype(float)
        days = pd.date_range(f"2023-01-{1 + s:02d}", periods=n, freq="D")
        parts.append(
            pd.DataFrame(
                {
                    "unique_id": f"store{s}",
                    "ds": days,
                    "y": 10 + s + 5 * promo + 0.1 * rng.standard_normal(n),
                    "promo": promo,
                    "size": float(s),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _future_for(model, frame: pd.DataFrame, promo: float) -> pd.DataFrame:
    rows = []
    for sid, group in frame.groupby("unique_id"):
        days = pd.date_range(group["ds"].max(), periods=model.horizon + 1, freq="D")[1:]
        rows.append(pd.DataFrame({"unique_id": sid, "ds": days, "promo": promo}))
    return pd.concat(rows, ignore_index=True)


def test_scalers_see_only_the_training_part_of_each_series(long_frame) -> None:
    params = {**LONG, "seq_len": 12, "horizon": 3, "validation_size": 6, **FAST}
    model = RNNForecaster(**params).fit(long_frame)
    changed = long_frame.copy()
    tail = changed.groupby("unique_id").cumcount(ascending=False) < 6  # each validation tail
    changed.loc[tail, "y"] = 1e6
    other = RNNForecaster(**params).fit(changed)
    np.testing.assert_array_equal(other.scaler_.loc_, model.scaler_.loc_)
    np.testing.assert_array_equal(other.scaler_.scale_, model.scaler_.scale_)
    # ... and each series has its own statistics.
    assert len(np.unique(model.scaler_.loc_[:, 0])) == 3


def test_batched_predict_equals_per_series_predict(long_frame) -> None:
    model = GRUForecaster(**LONG, seq_len=12, horizon=4, **FAST).fit(long_frame)
    together = model.predict()
    for sid, group in long_frame.groupby("unique_id"):
        alone = model.predict(group)
        expected = together[together["unique_id"] == sid].reset_index(drop=True)
        assert list(alone["ds"]) == list(expected["ds"])
        np.testing.assert_allclose(alone["y"], expected["y"], rtol=0, atol=1e-6)


def test_series_with_different_ends_each_continue_their_own_dates(long_frame) -> None:
    trimmed = long_frame.drop(long_frame.index[long_frame["unique_id"].eq("a")][-7:])
    model = RNNForecaster(**LONG, seq_len=12, horizon=2, **FAST).fit(trimmed)
    forecast = model.predict().set_index("unique_id")
    assert forecast.loc["a", "ds"].tolist() == list(pd.DatetimeIndex(["2004-06-01", "2004-07-01"]))
    assert forecast.loc["b", "ds"].tolist() == list(pd.DatetimeIndex(["2005-06-01", "2005-07-01"]))


def test_known_future_covariates_are_learnt_and_required_at_predict() -> None:
    frame = _promo_panel()
    model = LSTMForecaster(
        **LONG,
        seq_len=7,
        horizon=2,
        future_covariates=["promo"],
        static_covariates=["size"],
        hidden_size=16,
        max_epochs=40,
        learning_rate=1e-2,
        batch_size=32,
        progress_bar=False,
        random_state=0,
    ).fit(frame)
    assert model.future_names_ == ["promo"]
    assert model.static_names_ == ["size"]
    assert model.network_.config.n_future == 1
    with pytest.raises(DataError, match=r"uses known-future covariates \['promo'\].*future_cov"):
        model.predict()
    partial = _future_for(model, frame, 1.0).iloc[1:]  # store0 loses its first future day
    with pytest.raises(
        DataError, match=r"no values \(or NaN\) in \['promo'\] for series 'store0' at \['2023-03-2"
    ):
        model.predict(future_covariates=partial)
    with_promo = model.predict(future_covariates=_future_for(model, frame, 1.0))
    without = model.predict(future_covariates=_future_for(model, frame, 0.0))
    lift = (with_promo["y"] - without["y"]).to_numpy()
    # The data's promotion effect is +5; the model must have picked up most of it.
    assert (lift > 3).all(), lift


def test_future_covariates_for_a_newer_history() -> None:
    frame = _promo_panel(n_series=2)
    model = GRUForecaster(**LONG, seq_len=7, horizon=2, future_covariates="promo", **FAST)
    model.fit(frame[frame["ds"] < "2023-03-01"])
    future = _future_for(model, frame, 0.0)
    forecast = model.predict(frame, future_covariates=future)
    assert forecast.groupby("unique_id")["ds"].min().tolist() == list(
        pd.DatetimeIndex(["2023-03-22", "2023-03-23"])
    )


def test_calendar_features_as_future_covariates(sine_frame) -> None:
    frame = sine_frame.join(calendar_features(sine_frame.index, features=["day_of_week"]))
    model = RNNForecaster(seq_len=10, horizon=3, target="y", future_covariates="day_of_week")
    model.set_params(**FAST).fit(frame)
    days = pd.date_range(frame.index[-1], periods=4, freq="D")[1:]
    forecast = model.predict(future_covariates=calendar_features(days, features=["day_of_week"]))
    assert list(forecast.index) == list(days)
    assert list(model.feature_names_in_) == ["y", "x", "day_of_week"]


def test_static_covariates_must_be_constant_per_series() -> None:
    frame = _promo_panel(n_series=2)
    frame.loc[5, "size"] = 9.0
    with pytest.raises(DataError, match=r"'size' is not constant within series 'store0'"):
        RNNForecaster(**LONG, seq_len=5, static_covariates="size", **FAST).fit(frame)


def test_static_covariates_are_compared_exactly() -> None:
    # np.isclose's default rtol (1e-5) let 1,000,000 and 1,000,009 pass as one value
    frame = _promo_panel(n_series=2)
    frame["size"] = frame["size"] + 1_000_000
    frame.loc[5, "size"] = 1_000_009.0
    message = r"'size' is not constant within series 'store0': 1000000.0 .* 1000009.0 at 2023-01-06"
    with pytest.raises(DataError, match=message):
        to_panel(frame, id_col="unique_id", time_col="ds", target="y", static=["size"])


@pytest.mark.parametrize(
    ("value", "what"), [(np.inf, "an infinite value"), (1e300, "a value beyond float32 range")]
)
def test_a_static_covariate_float32_cannot_hold_is_named_at_fit_and_predict(value, what) -> None:
    # Scaled, it became NaN: the fit failed with 'the training loss is nan', predict asked
    # to refit; the column, series and timestamp are named instead.
    frame = _promo_panel(n_series=3).drop(columns="promo")
    bad = frame.assign(size=frame["size"].where(frame["unique_id"] != "store1", value))
    named = rf"Static covariate 'size' has {what}.* in series 'store1' at 2023-01-02"
    model = RNNForecaster(**LONG, seq_len=5, horizon=2, static_covariates=["size"], **FAST)
    with pytest.raises(DataError, match=named):
        model.fit(bad)
    model.fit(frame)
    with pytest.raises(DataError, match=named):
        model.predict(bad)


def test_static_covariates_reach_the_head() -> None:
    frame = _promo_panel(n_series=3)
    model = RNNForecaster(**LONG, seq_len=7, horizon=2, static_covariates=["size"], **FAST)
    model.fit(frame.drop(columns="promo"))
    assert model.network_.config.n_static == 1
    history = frame.drop(columns="promo")
    before = model.predict(history)
    after = model.predict(history.assign(size=history["size"] + 10))
    assert not np.allclose(before["y"], after["y"])


def test_too_short_series_are_listed_or_dropped_with_a_warning(long_frame) -> None:
    params = {**LONG, "seq_len": 40, "horizon": 6, "validation_size": 6, **FAST}
    # b has 48 rows, but a window plus validation needs 52.
    with pytest.raises(DataError, match=r"series 'b' has 48.*drop_short=True"):
        RNNForecaster(**params).fit(long_frame)
    with pytest.warns(UserWarning, match=r"Dropped 1 series too short to train on: series 'b'"):
        model = RNNForecaster(**params, drop_short=True).fit(long_frame)
    assert model.series_ids_ == ["a", "c"]
    assert set(model.predict()["unique_id"]) == {"a", "c"}


def test_predict_names_series_too_short_to_forecast_from(long_frame) -> None:
    model = RNNForecaster(**LONG, seq_len=12, horizon=2, **FAST).fit(long_frame)
    cut = long_frame.groupby("unique_id").tail(10)
    with pytest.raises(DataError, match=r"series 'a' has 10, series 'b' has 10.*seq_len=12"):
        model.predict(cut)


def test_swa_start_with_validation_under_ddp_spawn_is_refused_before_training(long_frame):
    # The spawned processes' averaging state never comes back: the best epoch's raw
    # weights would silently replace the average.
    model = RNNForecaster(
        **LONG,
        seq_len=12,
        horizon=3,
        swa_start=0.5,
        trainer_kwargs={"accelerator": "cpu", "devices": 2, "strategy": "ddp_spawn"},
        **FAST,
    )
    with pytest.raises(InvalidParameterError, match="strategy='ddp', or validation_size=0"):
        model.fit(long_frame)
    assert not hasattr(model, "network_")


@pytest.mark.slow
def test_ddp_spawn_on_two_cpu_processes_predicts_like_one(long_frame, capfd) -> None:
    params = {**LONG, "seq_len": 12, "horizon": 3, **FAST}
    single = RNNForecaster(**params).fit(long_frame).predict()
    ddp = RNNForecaster(
        **params,
        trainer_kwargs={"accelerator": "cpu", "devices": 2, "strategy": "ddp_spawn"},
    ).fit(long_frame)
    forecast = ddp.predict()
    assert forecast.shape == single.shape
    pd.testing.assert_frame_equal(forecast[["unique_id", "ds"]], single[["unique_id", "ds"]])
    assert np.isfinite(forecast["y"]).all()
    # Rank 0's loss history and best weights come back to this process.
    assert len(ddp.history_) == FAST["max_epochs"]
    assert ddp.best_epoch_ == int(ddp.history_["val_loss"].idxmin())
    # The spawned processes are as quiet as this one: no banners, no warnings.
    out, err = capfd.readouterr()
    for banner in ("Initializing distributed", "distributed_backend", "LeafSpec", "stopped"):
        assert banner not in out + err


@pytest.mark.parametrize(
    "dtype",
    ["timestamp[us][pyarrow]", "timestamp[ns, tz=UTC][pyarrow]", "date32[pyarrow]", "dates"],
)
def test_a_wide_frame_indexed_by_arrow_timestamps_or_dates(dtype) -> None:
    # Such an index was refused ("The index is a Index, not datetime-like").
    from forecast import NaiveForecaster

    days = pd.date_range("2024-01-01", periods=10, freq="D")
    frame = pd.DataFrame({"ds": days, "y": np.arange(10.0)})
    if dtype == "dates":  # datetime.date objects, as fit reads them in a time column
        frame["ds"] = [d.date() for d in days]
    else:
        pytest.importorskip("pyarrow")
        frame = frame.astype({"ds": dtype})
    wide = frame.set_index("ds")
    panel, _ = to_panel(wide)
    expected = days.tz_localize("UTC") if "UTC" in dtype else days
    assert list(panel.times) == list(expected)
    forecast = NaiveForecaster(horizon=2).fit(wide).predict()
    np.testing.assert_array_equal(forecast["y"].to_numpy(), [9.0, 9.0])
    assert list(forecast.index) == list(pd.date_range(expected[-1], periods=3, freq="D")[1:])
