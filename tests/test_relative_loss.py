"""``loss="mape"`` and ``loss="smape"``: errors relative to the actual value, from scaled values.

What a user relies on: the loss the network minimises is the MAPE (or M3's sMAPE) of the
forecasts in the series' own units, whatever the scaler; a MAPE-trained network forecasts
the low value MAPE rewards; the losses are refused where they would mean something else.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sklearn.metrics import mean_absolute_percentage_error

from forecast import EnsembleForecaster, LSTMForecaster, RNNForecaster
from forecast._exceptions import InvalidParameterError, NumericalError
from forecast.data.scaling import SCALERS, SeriesScaler
from forecast.data.windowing import WindowDataset, WindowIndex
from forecast.neural.objectives import MAPELoss, RelativeLoss, SMAPELoss, masked_loss

L, H = 6, 3


def _scaled(method: str | None, windows: np.ndarray, series: np.ndarray, values: np.ndarray):
    """Windows scaled by ``method`` (fitted on ``values``, one series), their offsets
    ``(N, 2, 1)`` and each window's scale, ``(N, 1, 1)``."""
    scaler = SeriesScaler(method)
    if method in ("standard", "minmax"):
        scaler.fit(values, np.array([0, len(values)]), np.array([len(values)]))
    scaled, offsets = scaler.scale_windows_with_offsets(windows, series, L)
    if method is None:
        scale = np.ones((len(windows), 1, 1))
    else:
        scale = scaler.window_stats(windows[:, :L], series)[1]
    return scaled, offsets, scale


finite = st.floats(-1e3, 1e3, allow_nan=False, width=32)


# A clean-clone CI's draw: zeros and float32's smallest subnormal. Under "minmax" the
# level (4.7e-46) was cast to float32's 0, and a zero actual's loss was 0 / 0; under
# "window" the scaled values overflow float32, which is refused.
SUBNORMAL = [0.0] * 7 + [2.802596928649634e-45, 0.0, 0.0, 1.0]


@settings(max_examples=60, deadline=None)
@given(
    method=st.sampled_from(SCALERS),
    values=st.lists(finite, min_size=L + H + 2, max_size=L + H + 8),
    errors=st.lists(st.floats(-50, 50, allow_nan=False, width=32), min_size=H, max_size=H),
)
@example(method="minmax", values=SUBNORMAL, errors=[1.0, -2.0, 0.5])
@example(method="window", values=SUBNORMAL, errors=[0.0, 0.0, 0.0])
def test_the_losses_on_scaled_values_are_mape_and_smape_in_the_series_units(
    method, values, errors
) -> None:
    values = np.asarray(values, dtype=np.float64)[:, None]  # (T, 1)
    windows = np.lib.stride_tricks.sliding_window_view(values, L + H, axis=0).transpose(0, 2, 1)
    series = np.zeros(len(windows), dtype=np.int64)
    refused = ""
    try:
        scaled, offsets, scale = _scaled(method, windows, series, values)
    except NumericalError as exc:  # loudly, as predict and fit refuse it: nothing to test
        refused = str(exc)
    if refused:
        assert "overflow float32" in refused
        return
    loc = offsets[:, :1].astype(np.float64) * scale
    z = scaled[:, L:, :].astype(np.float64)  # (N, H, 1): targets as the network sees them
    y = z * scale + loc  # in units (the float32 targets', not the raw values' rounding)
    pred = y + np.asarray(errors)[None, :, None]  # a forecast in units
    z_hat = (pred - loc) / scale
    args = [torch.tensor(a, dtype=torch.float64) for a in (z_hat, z, offsets)]

    # The definitions in units, with the actual's size floored at a tenth of the input
    # window's level (its mean absolute value; the scale where that is 0), whatever the
    # scaler.
    # The error is the one the scaled values carry: (pred - loc) / scale rounds, and next to
    # a floor of 1e-9 (a window of zeros and one 1e-7) that rounding alone is 1e-6 of sMAPE.
    error = np.abs(z_hat - z) * scale
    level = np.abs(windows[:, :L]).mean(axis=1, keepdims=True)
    held = level / scale >= np.finfo(np.float32).tiny  # a level float32 holds: else none
    size = np.maximum(np.abs(y), RelativeLoss.FLOOR * np.where(held, level, scale))
    mape = error / size
    smape = 2 * error / (size + np.abs(pred))
    np.testing.assert_allclose(MAPELoss().elementwise(*args).numpy(), mape, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(SMAPELoss().elementwise(*args).numpy(), smape, rtol=1e-4, atol=1e-6)


SERIES = {
    "level": np.random.default_rng(1).uniform(50, 150, size=(40, 1)),
    # A fitted scaler's scale is the whole series' spread, 250 times the first values.
    "trend": 1.08 ** np.arange(90.0)[:, None],
    "small": np.random.default_rng(2).uniform(0.01, 0.05, size=(40, 1)),  # raw units < 0.1
}


@pytest.mark.parametrize("kind", SERIES)
def test_away_from_zero_the_mape_loss_is_scikit_learns_mape_under_every_scaler(kind) -> None:
    rng = np.random.default_rng(0)
    values = SERIES[kind]  # no value near a tenth of its window's level
    windows = np.lib.stride_tricks.sliding_window_view(values, L + H, axis=0).transpose(0, 2, 1)
    series = np.zeros(len(windows), dtype=np.int64)
    y = windows[:, L:, 0]
    pred = y * rng.uniform(0.7, 1.4, size=y.shape)
    for method in SCALERS:
        scaled, offsets, scale = _scaled(method, windows, series, values)
        z_hat = (pred[..., None] - offsets[:, :1] * scale) / scale
        loss = MAPELoss()(
            torch.tensor(z_hat),
            torch.tensor(scaled[:, L:, :], dtype=torch.float64),
            torch.tensor(offsets, dtype=torch.float64),
        )
        expected = mean_absolute_percentage_error(y.ravel(), pred.ravel())
        assert float(loss) == pytest.approx(expected, rel=1e-5), method


def test_under_window_level_a_positive_windows_offsets_are_one() -> None:
    windows = np.array([[[2.0], [4.0], [6.0], [9.0]], [[-1.0], [3.0], [4.0], [0.0]]])
    _, offsets = SeriesScaler("window_level").scale_windows_with_offsets(
        windows, np.zeros(2, dtype=np.int64), 3
    )
    assert offsets.shape == (2, 2, 1)
    assert offsets[0, 0, 0] == 1.0  # loc = scale = the mean level
    assert offsets[1, 0, 0] == pytest.approx(2.0 / (8.0 / 3.0))  # mean 2, mean |x| 8/3
    np.testing.assert_array_equal(offsets[:, 1, 0], [1.0, 1.0])  # the level is the scale


@pytest.mark.parametrize("method", SCALERS)
def test_a_zero_actual_weighs_as_a_tenth_of_its_input_level_under_every_scaler(method) -> None:
    values = np.array([90.0, 110.0, 95.0, 105.0, 100.0, 100.0, 0.0, 40.0, 100.0, 98.0])[:, None]
    windows = values[None, : L + H]  # inputs at level 100, then the actuals 0, 40, 100
    series = np.zeros(1, dtype=np.int64)
    scaled, offsets, scale = _scaled(method, windows, series, values)
    pred = np.array([5.0, 40.0, 120.0])[None, :, None]  # in units
    z_hat = (pred - offsets[:, :1] * scale) / scale
    args = [torch.tensor(a, dtype=torch.float64) for a in (z_hat, scaled[:, L:], offsets)]
    terms = MAPELoss().elementwise(*args).numpy().ravel()
    # 5 / max(0, 10); 0 / 40; 20 / 100: the floor is 10 in units, whatever the scale.
    np.testing.assert_allclose(terms, [0.5, 0.0, 0.2], rtol=1e-5, atol=1e-7)


def test_a_masked_window_level_reads_the_observed_inputs_only() -> None:
    from forecast.data.masking import MaskedScaler

    # Column 0 the values (the missing one imputed as 1000), column 1 its observed channel.
    windows = np.array([[[10.0, 1], [1000.0, 0], [30.0, 1], [20.0, 1], [0.0, 1]]])
    scaler = MaskedScaler("window_level", np.array([0]), np.array([1]))
    _, offsets = scaler.scale_windows_with_offsets(windows, np.zeros(1, dtype=np.int64), 4)
    scale = scaler.window_stats(windows[:, :4], np.zeros(1, dtype=np.int64))[1]
    assert scale[0, 0, 0] == pytest.approx(20.0)  # the mean of 10, 30 and 20
    assert offsets[0, 1, 0] == pytest.approx(1.0)  # its level: 20, in units of the scale


def test_the_dataset_adds_offsets_only_when_asked() -> None:
    values = np.arange(1.0, 21.0, dtype=np.float32).reshape(10, 2)
    windows = WindowIndex.build(np.array([0, 10]), seq_len=3, horizon=2)
    plain = WindowDataset(values, windows, seq_len=3, horizon=2, n_targets=1)
    assert isinstance(plain.__getitems__([0, 1]), tuple)  # the fast path is unchanged
    scaler = SeriesScaler("window")
    asked = WindowDataset(
        values, windows, seq_len=3, horizon=2, n_targets=1, scaler=scaler, offsets=True
    )
    batch = asked.__getitems__([0, 1])
    assert set(batch) == {"x", "y", "offset"}
    assert batch["offset"].shape == (2, 2, 1)
    loc, scale = scaler.window_stats(values[:3][None], np.array([0]))
    assert float(batch["offset"][0, 0, 0]) == pytest.approx(loc[0, 0, 0] / scale[0, 0, 0])
    level = np.abs(values[:3, 0]).mean()  # 3: the input rows 1, 3, 5 of the target
    assert float(batch["offset"][0, 1, 0]) == pytest.approx(level / scale[0, 0, 0])
    # Unscaled: the values are their own units, centre 0, the level as it is.
    bare = WindowDataset(values, windows, seq_len=3, horizon=2, n_targets=1, offsets=True)
    offset = bare.__getitems__([0])["offset"]
    assert float(offset[0, 0, 0]) == 0.0
    assert float(offset[0, 1, 0]) == pytest.approx(level)


def test_a_masked_relative_loss_averages_the_observed_terms_only() -> None:
    pred = torch.tensor([[[1.0], [0.0]]])
    target = torch.tensor([[[0.0], [1.0e9]]])  # the second target is missing (imputed)
    offset = torch.ones(1, 2, 1)
    mask = torch.tensor([[[1.0], [0.0]]])
    got = masked_loss(MAPELoss(), pred, target, mask, offset)
    assert float(got) == pytest.approx(1.0)  # |1 - 0| / |0 + 1|: the observed term alone
    with pytest.raises(TypeError, match="offset"):
        masked_loss(MAPELoss(), pred, target, mask)


def _two_valued_panel() -> pd.DataFrame:
    """Each value is its series' level or twice it (40 % / 60 %), independently: the median
    of a target is 2x the level, while MAPE is smallest at 1x (an over-forecast by 100 %
    costs 1, an under-forecast by 50 % costs 0.5)."""
    rng = np.random.default_rng(0)
    frames = []
    for i in range(8):
        level = 10.0 * (i + 1)
        y = level * np.where(rng.random(150) < 0.4, 1.0, 2.0)
        times = pd.date_range("2020-01-01", periods=150, freq="D")
        frames.append(pd.DataFrame({"unique_id": f"s{i}", "ds": times, "y": y}))
    return pd.concat(frames, ignore_index=True)


@pytest.mark.parametrize("scaler", ["window_level", "standard"])
def test_a_mape_trained_network_forecasts_what_mape_rewards(scaler) -> None:
    df = _two_valued_panel()
    params = {
        "seq_len": 8,
        "horizon": 2,
        "scaler": scaler,
        "hidden_size": 16,
        "learning_rate": 1e-2,
        "max_epochs": 3,
        "validation_size": 0,
        "random_state": 0,
        "progress_bar": False,
    }
    level = pd.Series({f"s{i}": 10.0 * (i + 1) for i in range(8)})
    ratios = {}
    for loss in ("mae", "mape"):
        forecasts = RNNForecaster(loss=loss, **params).fit(df).predict()
        assert np.isfinite(forecasts["y"]).all()
        ratios[loss] = (forecasts.set_index("unique_id")["y"] / level).median()
    assert ratios["mae"] > 1.7  # the median, 2x the level
    assert ratios["mape"] < 1.3  # MAPE's minimiser, 1x the level


@pytest.mark.parametrize("transform", ["log", "log1p", "boxcox"])
@pytest.mark.parametrize("loss", ["mape", "smape"])
def test_a_relative_loss_on_a_log_scale_is_refused_before_training(loss, transform) -> None:
    model = LSTMForecaster(seq_len=4, horizon=2, loss=loss, target_transform=transform)
    with pytest.raises(InvalidParameterError, match=rf"loss='{loss}'.*'{transform}'"):
        model.fit(_two_valued_panel())
    assert not [name for name in vars(model) if name.endswith("_")]
    # An ensemble refuses a member that would be trained so, before its first member.
    base = LSTMForecaster(seq_len=4, horizon=2, random_state=0)
    ensemble = EnsembleForecaster(
        base, n_members=2, member_params=[{}, {"loss": loss, "target_transform": transform}]
    )
    with pytest.raises(InvalidParameterError, match=rf"loss='{loss}'"):
        ensemble.fit(_two_valued_panel())
    assert not hasattr(ensemble, "members_")


def test_deseasonalised_targets_take_a_relative_loss() -> None:
    model = LSTMForecaster(
        seq_len=8,
        horizon=2,
        loss="smape",
        target_transform="deseasonalize",
        season_length=7,
        max_epochs=1,
        progress_bar=False,
        random_state=0,
    )
    forecasts = model.fit(_two_valued_panel()).predict()
    assert np.isfinite(forecasts["y"]).all()
    assert len(forecasts) == 16  # 8 series x 2 steps


def test_a_masked_fit_trains_a_relative_loss_on_the_observed_targets() -> None:
    df = _two_valued_panel()
    df.loc[df.index[5:140:9], "y"] = np.nan  # gaps in series s0
    model = RNNForecaster(
        seq_len=8,
        horizon=2,
        loss="mape",
        scaler="window_level",
        missing="mask",
        max_epochs=2,
        validation_size=0,
        progress_bar=False,
        random_state=0,
    ).fit(df)
    assert np.isfinite(model.history_["train_loss"]).all()
    assert np.isfinite(model.predict()["y"]).all()


def test_a_target_at_or_below_zero_is_named_in_a_warning_before_training(recwarn) -> None:
    df = _two_valued_panel()
    df.loc[(df["unique_id"] == "s3") & (df["ds"] == "2020-02-01"), "y"] = 0.0
    df.loc[(df["unique_id"] == "s5") & (df["ds"] == "2020-03-01"), "y"] = -4.0
    params = {
        "seq_len": 8,
        "horizon": 2,
        "max_epochs": 1,
        "validation_size": 0,
        "progress_bar": False,
    }
    with pytest.warns(UserWarning, match=r"in 2 series \(first: series 's3' at 2020-02-01"):
        RNNForecaster(loss="mape", **params).fit(df)
    recwarn.clear()
    RNNForecaster(loss="mae", **params).fit(df)  # an absolute loss: nothing to say
    RNNForecaster(loss="smape", **params).fit(_two_valued_panel())  # all positive
    assert not [w for w in recwarn if "relative to the actual" in str(w.message)]


def _monthly(y: np.ndarray, key: str = "a") -> pd.DataFrame:
    times = pd.date_range("2000-01-01", periods=len(y), freq="MS")
    return pd.DataFrame({"unique_id": key, "ds": times, "y": y})


_ONE_STEP = {
    "max_epochs": 1,
    "validation_size": 0,
    "progress_bar": False,
    "trainer_kwargs": {"max_steps": 1},
}


def test_the_warning_reads_the_values_the_network_trains_on_after_deseasonalize() -> None:
    """A positive series whose season is additive (an index would be under 0.01) goes below
    0 once its components are subtracted, and the network's relative errors are relative to
    those values: warned, though every value given is positive. A series with a 0 whose
    adjusted values are all positive is not."""
    months = np.arange(72) % 12
    falling = np.where(months == 0, 0.5, np.linspace(200.0, 5.0, 72))  # a trough near 0
    params = {"seq_len": 12, "horizon": 3, "loss": "mape", **_ONE_STEP}
    deseason = {"target_transform": "deseasonalize", "season_length": 12}
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        RNNForecaster(**params, **deseason).fit(_monthly(falling))
    said = [str(w.message) for w in _relative_loss_warnings(record)]
    assert len(said) == 1
    assert "target with its season taken off (target_transform='deseasonalize')" in said[0]
    assert "first: series 'a' at 2005-" in said[0]  # late: where the level is lowest
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        RNNForecaster(**params).fit(_monthly(falling))  # as given: all positive
        steady_with_a_zero = np.where(months == 0, 0.0, 100.0)
        RNNForecaster(**params, **deseason).fit(_monthly(steady_with_a_zero))
    assert not _relative_loss_warnings(record)


def test_checking_the_adjusted_values_does_not_repeat_the_transforms_own_warnings() -> None:
    """The check fits the seasons once more before training; what that fit says (here: a
    series with a gap left as it is) is said once, by the fit itself."""
    y = 100 + 20 * np.sin(2 * np.pi * np.arange(72) / 12) + np.arange(72)
    y[30] = np.nan
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        RNNForecaster(
            seq_len=12,
            horizon=3,
            loss="mape",
            missing="mask",
            target_transform="deseasonalize",
            season_length=12,
            **_ONE_STEP,
        ).fit(_monthly(y))
    said = [str(w.message) for w in record]
    assert sum("left 1 series as they are (series 'a')" in m for m in said) == 1, said
    assert not _relative_loss_warnings(record)


@pytest.mark.parametrize(
    ("short", "settings"),
    [
        (np.array([3.0, 0.0, 4.0, 5.0]), {}),  # under seq_len + horizon = 8 rows
        # 9 rows hold a window, but not a window and a validation tail of 2
        (np.array([3.0, 0.0, 4.0, 5.0, 6.0, 5.0, 4.0, 6.0, 5.0]), {"validation_size": 2}),
    ],
)
def test_the_warning_leaves_out_series_that_drop_short_leaves_out(short, settings) -> None:
    """A series too short to train on is dropped, so its 0 is not a value the loss sees;
    the same 0 in a series that is trained on is named."""
    rng = np.random.default_rng(1)
    long_ = 50 + rng.random(40)
    params = {
        "seq_len": 6,
        "horizon": 2,
        "loss": "mape",
        "drop_short": True,
        **_ONE_STEP,
        **settings,
    }
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        RNNForecaster(**params).fit(
            pd.concat([_monthly(long_, "long"), _monthly(short, "short")], ignore_index=True)
        )
    assert any("Dropped 1 series too short" in str(w.message) for w in record)
    assert not _relative_loss_warnings(record)
    long_[10] = 0.0
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        RNNForecaster(**params).fit(
            pd.concat([_monthly(long_, "long"), _monthly(short, "short")], ignore_index=True)
        )
    said = [str(w.message) for w in _relative_loss_warnings(record)]
    assert len(said) == 1
    assert "in 1 series (first: series 'long' at 2000-11-01" in said[0]


def _relative_loss_warnings(record) -> list:
    return [w for w in record if "relative to the actual" in str(w.message)]


def test_the_warning_is_said_once_per_fit_of_an_ensemble_or_backtest_at_the_users_line() -> None:
    """Every member, and every refit of a backtest, checks the data before it trains; the
    user reads the warning once, at the line that called us (it used to be once per member
    or refit, pointing into the package)."""
    from forecast import CombinedForecaster
    from forecast.backtest import backtest
    from forecast.baselines import ThetaForecaster

    df = _two_valued_panel()
    df.loc[(df["unique_id"] == "s3") & (df["ds"] == "2020-01-02"), "y"] = 0.0
    params = {
        "seq_len": 8,
        "horizon": 2,
        "loss": "mape",
        "max_epochs": 1,
        "validation_size": 0,
        "progress_bar": False,
        "trainer_kwargs": {"max_steps": 1},
    }
    ensemble = EnsembleForecaster(
        LSTMForecaster(**params, random_state=0),
        n_members=3,
        member_params=[{"loss": "mape"}, {"loss": "smape"}],
    )
    combined = CombinedForecaster(LSTMForecaster(**params), ThetaForecaster(horizon=2))
    calls = {
        # two losses: two different warnings, each once (members 0 and 2 share one)
        "ensemble": (lambda: ensemble.fit(df), 2),
        "combined": (lambda: combined.fit(df), 1),
        "backtest with 3 refits": (
            lambda: backtest(RNNForecaster(**params), df, n_windows=3, refit=True),
            1,
        ),
    }
    for path, (call, expected) in calls.items():
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")  # Python's own filter would hide the repeats
            call()
        said = _relative_loss_warnings(record)
        assert len(said) == expected, (path, [str(w.message) for w in said])
        assert {w.filename for w in said} == {__file__}, path
    with warnings.catch_warnings(record=True) as record:  # two fits: two notices, as before
        warnings.simplefilter("always")
        RNNForecaster(**params).fit(df)
        RNNForecaster(**params).fit(df)
    assert len(_relative_loss_warnings(record)) == 2


def test_once_per_scope_says_each_warning_once_and_forgets_when_it_ends() -> None:
    from forecast._warnings import once_per_scope, warn_once

    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")

        def failing_fit() -> None:
            with once_per_scope():
                warn_once("a")
                raise ZeroDivisionError

        with pytest.raises(ZeroDivisionError):
            failing_fit()
        warn_once("a")  # the scope ended with the failure: said again
    assert [str(w.message) for w in record] == ["a", "a"]

    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        with once_per_scope():
            warn_once("a")
            with once_per_scope():  # nested: the outer scope's record
                warn_once("a")
                warn_once("b")
            warn_once("a", RuntimeWarning)  # another category: another warning
            warn_once("b")
        warn_once("a")  # outside any scope: said every time
        warn_once("a")
    said = [(w.category, str(w.message)) for w in record]
    assert said == [
        (UserWarning, "a"),
        (UserWarning, "b"),
        (RuntimeWarning, "a"),
        (UserWarning, "a"),
        (UserWarning, "a"),
    ]
