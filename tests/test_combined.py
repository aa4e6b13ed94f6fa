"""CombinedForecaster: the weighted mean of two fitted forecasters, wherever a model goes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import FAST, make_long_frame
from conftest import run_main as _run

import forecast
from forecast import (
    CombinedForecaster,
    EnsembleForecaster,
    GRUForecaster,
    InvalidParameterError,
    NaiveForecaster,
    ThetaForecaster,
)
from forecast.backtest import backtest

LONG = {"id_col": "unique_id", "time_col": "ds"}
HORIZON = 4


def network(**kw) -> GRUForecaster:
    return GRUForecaster(seq_len=8, horizon=HORIZON, validation_size=0, **FAST, **LONG, **kw)


def theta(**kw) -> ThetaForecaster:
    return ThetaForecaster(season_length=12, horizon=HORIZON, **LONG, **kw)


@pytest.fixture(scope="module")
def fitted() -> tuple[CombinedForecaster, pd.DataFrame]:
    df = make_long_frame()
    return CombinedForecaster(network(), theta(), partner_weight=0.25).fit(df), df


def _values(frame: pd.DataFrame) -> np.ndarray:
    return frame.sort_values(["unique_id", "ds"])["y"].to_numpy()


def test_forecasts_are_the_weighted_mean_of_the_members(fitted):
    model, df = fitted
    first, partner = model.members_
    for args in ((), (df,), (df.groupby("unique_id").head(30),)):
        expected = 0.75 * _values(first.predict(*args)) + 0.25 * _values(partner.predict(*args))
        np.testing.assert_allclose(_values(model.predict(*args)), expected, rtol=1e-6)
    # the members are fitted as they would be alone, on the same data
    alone = network().fit(df).predict()
    np.testing.assert_array_equal(_values(first.predict()), _values(alone))


def test_backtests_refit_both_members_at_each_cutoff(fitted):
    model, df = fitted
    result = backtest(model, df, n_windows=2, step=HORIZON, metrics=["mae"])
    for window, group in result.forecasts.groupby("window"):
        cutoffs = group.groupby("unique_id")["cutoff"].first()  # each series' own
        history = df[df["ds"] <= df["unique_id"].map(cutoffs)]
        alone = [m.fit(history).predict() for m in (network(), theta())]
        expected = 0.75 * _values(alone[0]) + 0.25 * _values(alone[1])
        got = group.sort_values(["unique_id", "ds"])["forecast"].to_numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-6, err_msg=f"window {window}")


def test_saved_it_loads_and_forecasts_the_same_also_from_the_command_line(fitted, tmp_path, capsys):
    model, df = fitted
    path = tmp_path / "combined.safetensors"
    model.save(path)
    loaded = forecast.load(path)
    assert isinstance(loaded, CombinedForecaster)
    assert [type(m) for m in loaded.members_] == [GRUForecaster, ThetaForecaster]
    pd.testing.assert_frame_equal(loaded.predict(df), model.predict(df))
    df.to_csv(tmp_path / "data.csv", index=False)
    code, out, err = _run(capsys, "predict", "--model", path, "--data", tmp_path / "data.csv",
                          "--out", tmp_path / "fc.csv", "--no-metadata")  # fmt: skip
    assert (code, out) == (0, ""), err
    written = pd.read_csv(tmp_path / "fc.csv")
    np.testing.assert_allclose(written["y"], model.predict(df)["y"], rtol=1e-6)


def test_the_command_line_says_how_to_build_one(capsys, tmp_path):
    code, _, err = _run(capsys, "fit", "--estimator", "combined", "--data", tmp_path / "x.csv")
    assert code == 2
    assert "CombinedForecaster wraps another estimator" in err
    assert "ThetaForecaster(...)).fit(df).save(path)" in err


@pytest.mark.parametrize(
    ("first", "partner", "weight", "message"),
    [
        (network(), theta(), 1.0, r"'partner_weight' parameter .* must be a float in \(0, 1\)"),
        (network(), theta(), True, r"'partner_weight' .* Got True"),
        (network(), ThetaForecaster(horizon=2, **LONG), 0.5,
         r"horizon is 4 for GRUForecaster and 2 for ThetaForecaster\. Set them equal\."),
        (network(), ThetaForecaster(horizon=HORIZON, id_col="x", time_col="ds"), 0.5,
         r"id_col is 'unique_id' for GRUForecaster and 'x' for ThetaForecaster"),
        (network(quantiles=[0.1, 0.5, 0.9]), theta(), 0.5,
         r"its GRUForecaster has quantiles: the mean of two models' quantiles"),
        (network(), theta(intervals="conformal", coverage=0.8), 0.5,
         r"its ThetaForecaster has intervals"),
        (EnsembleForecaster(network(quantiles=[0.5]), n_members=2), theta(), 0.5,
         r"its EnsembleForecaster has quantiles"),
        (network(), network(future_covariates=["promo"]), 0.5,
         r"reads covariates other than the forecaster's"),
        ("lstm", theta(), 0.5, r"'forecaster' parameter of CombinedForecaster must be a"),
    ],
)  # fmt: skip
def test_what_cannot_be_combined_is_refused_before_training(first, partner, weight, message):
    model = CombinedForecaster(first, partner, partner_weight=weight)
    with pytest.raises((InvalidParameterError, TypeError), match=message):
        model.fit(make_long_frame())
    assert "members_" not in vars(model)


def test_a_series_one_member_cannot_serve_is_a_bad_series_of_the_combination():
    df = make_long_frame()
    model = CombinedForecaster(network(scaler="standard"), NaiveForecaster(horizon=HORIZON, **LONG))
    model.fit(df)
    new = df[df["unique_id"] == "a"].assign(unique_id="new")
    with pytest.warns(UserWarning, match="1 bad series: series 'new': unseen"):
        fc = model.predict(pd.concat([df, new]), on_bad_series="skip")
    assert set(fc["unique_id"]) == set(df["unique_id"])
    (entry,) = fc.attrs["bad_series"]["bad"]
    assert (entry["id"], entry["reason"]) == ("new", "unseen")


def _near_1e8() -> pd.DataFrame:
    """The long frame's series as counts near 1e8 that grow by 3 a month: float32 holds
    them only to steps of 8."""
    df = make_long_frame()
    return df.assign(y=1e8 + 3.0 * df.groupby("unique_id").cumcount())


@pytest.mark.parametrize("network_first", [True, False])
@pytest.mark.filterwarnings("ignore:Column 'y' of series 'a' .* rounds away:UserWarning")  # it does
def test_each_member_reads_the_data_as_it_does_alone_whichever_comes_first(network_first):
    # The frame was converted at the first member's dtype: after a network, Theta read
    # float32 (1e8 + 3t in steps of 8: its forecasts off by up to 3); before one, the
    # network read float64 (off by ~1e-6, and predict(df) unequal to predict()).
    df = _near_1e8()
    pair = (network(), theta())
    model = CombinedForecaster(*(pair if network_first else pair[::-1])).fit(df)
    members = model.members_ if network_first else model.members_[::-1]
    alone = [network().fit(df), theta().fit(df)]
    for args in ((), (df,)):
        for member, single in zip(members, alone, strict=True):
            np.testing.assert_array_equal(
                _values(member.predict(*args)), _values(single.predict(*args))
            )
        expected = 0.5 * _values(alone[0].predict(*args)) + 0.5 * _values(alone[1].predict(*args))
        np.testing.assert_array_equal(_values(model.predict(*args)), expected)
    # a backtest reads a float64 panel: each member narrows it as predict() reads its fit
    result = backtest(model, df, n_windows=1, metrics=["mae"])
    got = result.forecasts.sort_values(["unique_id", "ds"])["forecast"].to_numpy()
    np.testing.assert_array_equal(got, _values(result.models[0].predict()))


@pytest.mark.parametrize("network_first", [True, False])
def test_a_value_the_network_cannot_hold_makes_a_bad_series_whichever_comes_first(network_first):
    df = make_long_frame()
    pair = (network(), theta())
    model = CombinedForecaster(*(pair if network_first else pair[::-1])).fit(df)
    night = df.copy()
    night.loc[night.index[night["unique_id"] == "b"][5], "y"] = 1e39  # beyond float32
    with pytest.warns(UserWarning, match="1 bad series"):
        fc = model.predict(night, on_bad_series="skip")
    assert set(fc["unique_id"]) == {"a", "c"}
    (entry,) = fc.attrs["bad_series"]["bad"]
    assert (entry["id"], entry["reason"]) == ("b", "invalid")
