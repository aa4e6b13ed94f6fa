"""``missing="mask"`` and ``fill_gaps``: gaps and NaN handled without a wrong number."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from pandas.tseries.holiday import USFederalHolidayCalendar
from sklearn.base import clone

from forecast import (
    DataError,
    EnsembleForecaster,
    InvalidParameterError,
    LSTMForecaster,
    MissingHistoryError,
    RNNForecaster,
    fill_gaps,
    load,
)
from forecast.backtest import backtest
from forecast.baselines import DriftForecaster, NaiveForecaster, SeasonalNaiveForecaster
from forecast.data.masking import (
    CausalInputs,
    MaskedScaler,
    augment,
    carried,
    impute,
    input_positions,
    last_observed,
    observed_windows,
)
from forecast.data.panel import to_panel
from forecast.data.windowing import WindowDataset, WindowIndex
from forecast.neural.module import RecurrentModule
from forecast.neural.objectives import PinballLoss, masked_loss

TINY = dict(seq_len=6, horizon=2, hidden_size=4, max_epochs=2, random_state=0, progress_bar=False)


def _long(n_series: int = 3, n: int = 40, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = [
        pd.DataFrame(
            {
                "id": f"s{i}",
                "t": pd.date_range("2021-01-01", periods=n, freq="D"),
                "y": 50 + 10 * np.sin(np.arange(n) / 4 + i) + rng.normal(size=n),
                "x": rng.normal(size=n),
            }
        )
        for i in range(n_series)
    ]
    return pd.concat(frames, ignore_index=True)


# ------------------------------------------------------------------------- the loss


@pytest.mark.parametrize("loss", ["mse", "mae", "huber", "pinball", "mape", "smape"])
def test_imputed_targets_never_reach_the_loss_or_its_gradient(loss) -> None:
    quantiles = [0.1, 0.5, 0.9] if loss == "pinball" else None
    torch.manual_seed(0)
    module = RecurrentModule(
        cell="gru", input_size=2, hidden_size=4, horizon=3, loss=loss, quantiles=quantiles
    )
    x = torch.randn(5, 6, 2)
    y = torch.randn(5, 3, 1)
    mask = torch.ones(5, 3, 1)
    mask[0, 1, 0] = mask[3, :, 0] = 0.0  # window 3 only partly: its other terms count
    # Each window's loc / scale and input level in units of its scale (the relative losses').
    offset = torch.cat([torch.rand(5, 1, 1) + 1.0, torch.rand(5, 1, 1) * 20.0], dim=1)

    def loss_and_grad(imputed: float) -> tuple[float, list[torch.Tensor]]:
        module.zero_grad()
        target = torch.where(mask > 0, y, torch.tensor(imputed))
        batch = {"x": x, "y": target, "mask": mask, "offset": offset}
        value = module._common_step(batch, "train")
        value.backward()
        return float(value.detach()), [
            p.grad.clone() for p in module.parameters() if p.grad is not None
        ]

    a, grads_a = loss_and_grad(0.0)
    b, grads_b = loss_and_grad(1e6)
    assert a == b
    assert all(torch.equal(g, h) for g, h in zip(grads_a, grads_b, strict=True))
    # ... and the loss is the mean over the observed terms, computed by hand.
    pred = module(x).detach()
    if loss == "pinball":
        levels = torch.tensor(quantiles)
        diff = y.unsqueeze(-1) - pred
        terms = torch.maximum(levels * diff, (levels - 1) * diff).mean(-1)
    elif loss == "mse":
        terms = (pred - y) ** 2
    elif loss == "mae":
        terms = (pred - y).abs()
    elif loss in ("mape", "smape"):
        loc, floor = offset[:, :1], 0.1 * offset[:, 1:]  # floored at a tenth of the level
        size = torch.maximum((y + loc).abs(), floor)
        if loss == "mape":
            terms = (pred - y).abs() / size
        else:
            terms = 2 * (pred - y).abs() / (size + (pred + loc).abs())
    else:
        terms = torch.nn.functional.huber_loss(pred, y, reduction="none")
    expected = terms[mask > 0].mean()
    assert a == pytest.approx(float(expected), rel=1e-6)


def test_an_infinite_imputed_target_is_no_nan_loss() -> None:
    pred = torch.zeros(1, 2, 1, requires_grad=True)
    target = torch.tensor([[[1.0], [float("inf")]]])
    value = masked_loss(
        PinballLoss([0.5]), pred.unsqueeze(-1), target, torch.tensor([[[1.0], [0.0]]])
    )
    value.backward()
    assert float(value.detach()) == 0.5
    assert torch.isfinite(pred.grad).all()


def test_the_training_batch_masks_exactly_the_missing_targets() -> None:
    df = _long(n_series=2, n=30)
    df.loc[[5, 6, 40], "y"] = np.nan
    panel, _ = to_panel(df, id_col="id", time_col="t", target="y", missing="mask")
    model = LSTMForecaster(id_col="id", time_col="t", target="y", missing="mask", **TINY)
    model.seed_ = 0  # fit sets it before building the inputs (it keys the hidden ones)
    from forecast.forecasters._masking import masked_training

    masked = masked_training(panel, model)
    assert masked is not None
    assert masked.missing_columns == ["y"]
    data = WindowDataset(
        masked.values,
        masked.train,
        seq_len=6,
        horizon=2,
        n_targets=1,
        scaler=masked.scaler,
        target_channels=masked.target_channels,
    )
    batch = data.__getitems__(list(range(len(masked.train))))
    starts, _ = masked.train.locate(np.arange(len(masked.train)))
    rows = starts[:, None] + 6 + np.arange(2)
    expected = ~np.isnan(panel.values[rows, 0])
    assert np.array_equal(batch["mask"][..., 0].numpy() > 0, expected)
    # Every window kept has an observed target in its input and in its horizon.
    inputs = starts[:, None] + np.arange(6)
    assert (~np.isnan(panel.values[inputs, 0])).any(axis=1).all()
    assert expected.any(axis=1).all()


def test_windows_without_an_observed_target_are_skipped() -> None:
    offsets = np.array([0, 10])
    observed = np.ones(10, dtype=bool)
    observed[6:8] = False  # the horizon of the window starting at 3 (L=3, H=2)
    kept = observed_windows(WindowIndex.build(offsets, 3, 2), observed, 3, 2)
    starts, _ = kept.locate(np.arange(len(kept)))
    assert 3 not in starts.tolist()
    assert set(starts.tolist()) == {0, 1, 2, 4, 5}  # 4: input 4-6 observes 4 and 5


# ------------------------------------------------------------------------- imputation


@st.composite
def _panels(draw):
    lengths = draw(st.lists(st.integers(1, 12), min_size=1, max_size=5))
    n_rows = sum(lengths)
    values = np.array(draw(st.lists(st.floats(-1e3, 1e3), min_size=n_rows, max_size=n_rows)))
    missing = np.array(draw(st.lists(st.booleans(), min_size=n_rows, max_size=n_rows)))
    values[missing] = np.nan
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    return values[:, None], offsets


@settings(max_examples=200, deadline=None)
@given(_panels())
def test_imputation_never_crosses_a_series_boundary(panel) -> None:
    values, offsets = panel
    filled = impute(values, offsets)[:, 0]
    for a, b in itertools.pairwise(offsets):
        own = values[a:b, 0]
        seen = np.flatnonzero(~np.isnan(own))
        for i in range(b - a):
            before, after = seen[seen <= i], seen[seen >= i]
            if before.size and after.size and before[-1] != i:  # between two observations
                lo, hi = before[-1], after[0]
                expected = own[lo] + (i - lo) / (hi - lo) * (own[hi] - own[lo])
                assert filled[a + i] == pytest.approx(expected, rel=1e-12, abs=1e-9)
                continue
            if before.size:
                expected = own[before[-1]]  # after the last observation: carried forward
            elif seen.size:
                expected = own[seen[0]]  # before the first observation: that one
            else:
                expected = 0.0  # never observed in this series
            assert filled[a + i] == expected


def _causal_reference(values, offsets, start, seq_len):
    """The inputs of the window of rows ``start .. start + seq_len - 1`` imputed from
    nothing after them: the series cut at the window's end, then imputed."""
    end = start + seq_len
    series = int(np.searchsorted(offsets, start, side="right")) - 1
    own = values[offsets[series] : end]
    return impute(own, np.array([0, len(own)]))[start - offsets[series] :]


@settings(max_examples=200, deadline=None)
@given(_panels(), st.integers(1, 5), st.data())
def test_a_window_s_inputs_read_nothing_after_its_cutoff(panel, seq_len, data) -> None:
    """Interpolation reads the observation after a gap; in a window whose input ends inside
    that gap, CausalInputs puts back what the history up to the window's end gives."""
    values, offsets = panel
    lengths = np.diff(offsets)
    fits = np.flatnonzero(lengths >= seq_len)
    if not fits.size:
        return
    series = int(data.draw(st.sampled_from(fits.tolist())))
    start = offsets[series] + data.draw(st.integers(0, lengths[series] - seq_len))
    inputs = augment(values, offsets, np.array([0]), 0)  # (T, 2): value, observed channel
    known = carried(values, offsets, np.array([0]))
    causal = CausalInputs(known, np.array([0]), np.array([1]), seq_len)
    window = inputs[start : start + seq_len][None]
    out = causal(window, np.array([start]))[0]
    expected = _causal_reference(values, offsets, start, seq_len)[:, 0]
    if np.isnan(values[offsets[series] : start + seq_len, 0]).all():
        return  # nothing observed yet: the first observation's level (documented)
    np.testing.assert_allclose(out[:, 0], expected.astype(np.float32), rtol=1e-6, atol=1e-3)
    assert np.array_equal(out[:, 1], inputs[start : start + seq_len, 1])  # channels as they were


def test_a_forecast_from_a_cutoff_inside_a_gap_reads_nothing_after_the_cutoff() -> None:
    """A backtest without refit forecasts from interior cutoffs of the panel it is given:
    when the cutoff falls in a gap, the inputs must not be interpolated towards the values
    after it (the actuals it is scored on)."""
    df = _long(n_series=2, n=40).drop(columns="x")
    model = LSTMForecaster(id_col="id", time_col="t", target="y", freq="D", missing="mask")
    model.set_params(**TINY)
    # horizon 2, 3 windows, step 1: s0's last cutoff is at row 38 (the last 2 rows after it)
    df.loc[[10, 36, 37], "y"] = np.nan  # a gap in training, and one that ends at a cutoff
    run = dict(n_windows=3, step=1, refit=False, metrics=["mae"])
    first = backtest(model, df, **run).forecasts
    changed = df.copy()
    changed.loc[[38, 39], "y"] += 100.0  # only what lies after the last cutoff
    second = backtest(model, changed, **run).forecasts
    last = first["window"] == first["window"].max()
    pd.testing.assert_series_equal(first.loc[last, "forecast"], second.loc[last, "forecast"])
    assert not first.loc[last, "actual"].equals(second.loc[last, "actual"])


@pytest.mark.parametrize(
    ("fitted_gap", "column"),
    [(None, "x"), (None, "y"), ("y", "x")],  # (y with a channel: the test above)
    ids=["no_channel-x", "no_channel-y", "channel_for_y-x"],
)
def test_a_column_without_a_channel_reads_nothing_after_the_cutoff(fitted_gap, column) -> None:
    """A column complete at fit has no observed channel; a gap in it that runs to a cutoff
    was interpolated towards the value after the cutoff (no causal fix applied to it), in
    score, backtests and calibration alike."""
    df = _long(n_series=2, n=40)
    fit_on = df.copy()
    if fitted_gap:
        fit_on.loc[10, fitted_gap] = np.nan
    model = LSTMForecaster(id_col="id", time_col="t", target="y", freq="D", missing="mask")
    model.set_params(**TINY).fit(fit_on)
    assert model.missing_columns_ == ([fitted_gap] if fitted_gap else [])
    history = df.copy()
    history.loc[[36, 37], column] = np.nan  # s0's last two rows before its last cutoff (38)
    changed = history.copy()
    changed.loc[38, column] += 100.0  # the first row after that cutoff, and nothing else
    run = dict(n_windows=1, refit=False, metrics=["mae"])
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Columns .* have missing values but were complete")
        first = backtest(model, history, **run).forecasts
        second = backtest(model, changed, **run).forecasts
        score_first, score_second = model.score(history), model.score(changed)
    s0 = first["id"] == "s0"
    pd.testing.assert_series_equal(first.loc[s0, "forecast"], second.loc[s0, "forecast"])
    if column == "x":  # the score reads y's actuals only
        assert score_first == score_second


@st.composite
def _long_frames(draw):
    """Long frames of 1-4 series with random missing timestamps and NaN."""
    rows = []
    for i in range(draw(st.integers(1, 4))):
        n = draw(st.integers(2, 10))
        kept = draw(st.lists(st.booleans(), min_size=n, max_size=n))
        kept[0] = kept[-1] = True  # a series spans its first to its last timestamp
        for k in np.flatnonzero(kept):
            value = draw(st.one_of(st.none(), st.integers(-50, 50)))
            rows.append((f"s{i}", pd.Timestamp("2024-01-01") + pd.Timedelta(days=int(k)), value))
    df = pd.DataFrame(rows, columns=["id", "t", "y"])
    df["y"] = df["y"].astype(float)
    return df.sort_values(["t", "id"]) if draw(st.booleans()) else df  # interleaved, or not


@settings(max_examples=60, deadline=None)
@given(_long_frames())
def test_masked_panels_impute_within_each_series_of_a_long_frame(df) -> None:
    panel, _ = to_panel(df, id_col="id", time_col="t", target="y", freq="D", missing="mask")
    filled = impute(panel.values, panel.offsets)[:, 0]
    # The reference: pandas, one series at a time, on fill_gaps' explicit rows.
    with warnings.catch_warnings():  # a drawn y may be constant in a series: said, not copied
        warnings.simplefilter("ignore", UserWarning)
        explicit = fill_gaps(df, freq="D", id_col="id", time_col="t").sort_values(["id", "t"])
    inside = explicit.groupby("id")["y"].transform(lambda y: y.interpolate(limit_area="inside"))
    by_series = inside.groupby(explicit["id"])
    expected = inside.fillna(by_series.ffill()).fillna(by_series.bfill()).fillna(0.0)
    np.testing.assert_allclose(filled, expected.to_numpy(), rtol=1e-6)  # a float32 panel
    assert panel.times.equals(pd.DatetimeIndex(explicit["t"]))


@settings(max_examples=100, deadline=None)
@given(_panels(), st.integers(1, 4))
def test_last_observed_stays_within_its_series_and_phase(panel, lag) -> None:
    values, offsets = panel
    source = last_observed(values, offsets, lag)[:, 0]
    for a, b in itertools.pairwise(offsets):
        for i in range(a, b):
            if source[i] >= 0:
                assert a <= source[i] <= i
                assert (i - source[i]) % lag == 0
                assert not np.isnan(values[source[i], 0])
                assert np.isnan(values[source[i] + lag : i + 1 : lag, 0]).all()
            else:
                assert np.isnan(values[np.arange(i, a - 1, -lag), 0]).all()


def test_scalers_are_fitted_on_observed_values_only() -> None:
    values = np.array([[1.0], [np.nan], [3.0], [10.0], [np.nan], [np.nan]])
    offsets = np.array([0, 4, 6])
    positions = input_positions(1, 0, np.array([0]))
    for method in ("standard", "minmax"):
        scaler = MaskedScaler(method, np.array([0]), np.array([1]))
        scaler.fit_observed(values, offsets, np.array([3, 2]), positions, 2)
        if method == "standard":
            assert scaler.loc_[0].tolist() == [2.0, 0.0]
            assert scaler.scale_[0, 0] == 1.0
        else:
            assert scaler.loc_[0].tolist() == [1.0, 0.0]
            assert scaler.scale_[0, 0] == 2.0
        assert scaler.loc_[1].tolist() == [0.0, 0.0]  # never observed: left alone
        assert scaler.scale_[:, 1].tolist() == [1.0, 1.0]  # channels pass unscaled
    window = np.array([[[1.0, 1.0], [99.0, 0.0], [3.0, 1.0]]])  # 99 is an imputed value
    loc, scale = MaskedScaler("window", np.array([0]), np.array([1])).window_stats(
        window, np.zeros(1, dtype=np.int64)
    )
    assert loc[0, 0].tolist() == [2.0, 0.0]
    assert scale[0, 0].tolist() == [1.0, 1.0]


# ------------------------------------------------------------------------- estimators


def test_a_masked_fit_on_complete_data_equals_the_normal_fit() -> None:
    df = _long()
    kw = dict(id_col="id", time_col="t", target="y", **TINY)
    plain = LSTMForecaster(**kw).fit(df)
    masked = LSTMForecaster(missing="mask", **kw).fit(df)
    assert masked.missing_columns_ == []
    assert masked.predict().equals(plain.predict())
    assert masked.predict(df).equals(plain.predict(df))


@pytest.mark.parametrize(
    "freq", ["B", pd.offsets.CustomBusinessDay(calendar=USFederalHolidayCalendar())]
)
def test_a_masked_fit_on_complete_business_day_data_equals_the_normal_fit(freq) -> None:
    # A weekday missing from trading data is a closure (a holiday; Good Friday is none of
    # the federal calendar's), not a gap: masking inserted it as a missing row, so complete
    # data got observed channels, input hiding and other forecasts.
    days = pd.bdate_range("2024-02-01", periods=60)
    closed = USFederalHolidayCalendar().holidays("2024-02-01", "2024-06-01")
    days = days[~days.isin(closed.append(pd.DatetimeIndex(["2024-03-29"])))]
    rng = np.random.default_rng(0)
    n = len(days)
    df = pd.DataFrame({"y": 10 + np.sin(np.arange(n) / 3), "x": rng.normal(size=n)}, index=days)
    kw = dict(target="y", past_covariates=["x"], freq=freq, **TINY)
    plain = RNNForecaster(**kw).fit(df)
    masked = RNNForecaster(missing="mask", **kw).fit(df)
    assert masked.missing_columns_ == []
    assert masked.predict().equals(plain.predict())
    assert masked.predict(df).equals(plain.predict(df))
    # NaN values in the rows there are still masked; no row is added
    gappy = df.copy()
    gappy.iloc[10, 0] = np.nan
    panel, _ = to_panel(gappy, target="y", past=["x"], freq=freq, missing="mask")
    assert len(panel.times) == n
    assert RNNForecaster(missing="mask", **kw).fit(gappy).missing_columns_ == ["y"]


def _gappy() -> pd.DataFrame:
    df = _long()
    df = df.drop(index=[7, 8, 9, 52]).reset_index(drop=True)  # missing timestamps
    df.loc[[20, 90], "y"] = np.nan
    df.loc[30, "x"] = np.nan
    return df


def test_masked_fit_and_predict_through_gaps_and_nan(tmp_path) -> None:
    df = _gappy()
    with pytest.raises(DataError, match="missing='mask'"):
        LSTMForecaster(id_col="id", time_col="t", target="y", freq="D", **TINY).fit(df)
    model = LSTMForecaster(id_col="id", time_col="t", target="y", freq="D", missing="mask")
    model.set_params(**TINY).fit(df)
    assert model.get_params()["missing"] == "mask"
    assert model.missing_columns_ == ["y", "x"]
    assert model.network_.config.input_size == 4  # y, x and their observed channels
    out = model.predict()
    assert np.isfinite(out["y"]).all()
    assert len(out) == 6
    path = tmp_path / "m.safetensors"
    model.save(path)
    loaded = load(path)
    assert loaded.missing == "mask"
    assert loaded.missing_columns_ == ["y", "x"]
    assert loaded.predict().equals(out)
    assert loaded.predict(df).equals(model.predict(df))


def test_predict_from_a_history_ending_in_a_gap() -> None:
    df = _gappy()
    model = LSTMForecaster(
        id_col="id", time_col="t", target="y", freq="D", missing="mask", **TINY
    ).fit(df)
    history = df.copy()
    last = history.index[history["id"] == "s1"][-2:]
    history.loc[last, ["y", "x"]] = np.nan  # s1 ends with two missing steps
    out = model.predict(history)
    s1 = out[out["id"] == "s1"]
    assert s1["t"].iloc[0] == history.loc[last[-1], "t"] + pd.Timedelta(days=1)
    assert np.isfinite(out["y"]).all()
    changed = out["y"].to_numpy() != model.predict(df)["y"].to_numpy()
    assert changed[(out["id"] == "s1").to_numpy()].all()  # s1 saw the gap
    assert not changed[(out["id"] != "s1").to_numpy()].any()


def test_a_series_whose_last_window_is_all_missing_is_named() -> None:
    df = _gappy()
    model = LSTMForecaster(
        id_col="id", time_col="t", target="y", freq="D", missing="mask", **TINY
    ).fit(df)
    history = df.copy()
    history.loc[history.index[history["id"] == "s2"][-6:], "y"] = np.nan
    with pytest.raises(MissingHistoryError, match=r"seq_len=6.*'s2'") as info:
        model.predict(history)
    assert info.value.series == ["series 's2'"] or "s2" in str(info.value.series)
    with pytest.raises(MissingHistoryError, match="s2"):  # also from the fitted end
        LSTMForecaster(id_col="id", time_col="t", target="y", freq="D", missing="mask", **TINY).fit(
            history
        ).predict()


def test_a_series_never_observed_in_training_is_named_before_training(no_training) -> None:
    df = _gappy()
    df.loc[df["id"] == "s2", "y"] = np.nan
    model = LSTMForecaster(id_col="id", time_col="t", target="y", freq="D", missing="mask", **TINY)
    refusal = r"training part of some series \(observed rows: series 's2' has 0\).*Drop those"
    with pytest.raises(DataError, match=refusal):
        model.fit(df)
    # Box-Cox fits its lambdas first: it names the series too (was numpy's ValueError)
    boxcox = model.set_params(target_transform="boxcox")
    observed = r"No value of target 'y' is observed in series 's2' .*Drop the series"
    with pytest.raises(DataError, match=observed):
        boxcox.fit(df.assign(y=df["y"].abs() + 1.0))


def test_isolation_serves_gaps_under_mask_and_isolates_an_empty_window() -> None:
    """on_bad_series with missing="mask": gaps and NaN are no reason to call a series bad
    (the model serves them); a series whose input window observes no target is, by name."""
    df = _gappy()
    model = LSTMForecaster(
        id_col="id", time_col="t", target="y", freq="D", missing="mask", **TINY
    ).fit(df)
    out = model.predict(df, on_bad_series="skip")
    assert out.attrs["bad_series"]["n_bad"] == 0
    assert out[["id", "t", "y"]].equals(model.predict(df)[["id", "t", "y"]])
    history = df.copy()
    history.loc[history.index[history["id"] == "s2"][-6:], "y"] = np.nan
    with pytest.warns(UserWarning, match="s2"):
        out = model.predict(history, on_bad_series="skip")
    assert [b["id"] for b in out.attrs["bad_series"]["bad"]] == ["s2"]
    assert out.attrs["bad_series"]["bad"][0]["reason"] == "missing_history"
    assert set(out["id"]) == {"s0", "s1"}
    assert np.isfinite(out["y"]).all()
    inf = df.copy()
    inf.loc[inf.index[inf["id"] == "s0"][-1], "x"] = np.inf  # infinity is still bad
    with pytest.warns(UserWarning, match="s0"):
        out = model.predict(inf, on_bad_series="skip")
    assert [b["reason"] for b in out.attrs["bad_series"]["bad"]] == ["missing_values"]


@pytest.mark.parametrize("transform", ["log", "boxcox"])
def test_a_target_transform_takes_missing_values_and_still_refuses_non_positive(transform) -> None:
    df = _gappy()
    model = LSTMForecaster(
        id_col="id", time_col="t", target="y", freq="D", missing="mask",
        target_transform=transform, **TINY,
    ).fit(df)  # fmt: skip
    out = model.predict(df)
    assert np.isfinite(out["y"]).all()
    assert (out["y"] > 0).all()
    bad = df.copy()
    bad.loc[5, "y"] = -1.0
    with pytest.raises(DataError, match=rf"-1.0.*target_transform='{transform}'"):
        clone(model).fit(bad)


def test_a_warm_start_of_a_masked_model_is_refused_before_training() -> None:
    df = _gappy()
    model = LSTMForecaster(
        id_col="id", time_col="t", target="y", freq="D", missing="mask", **TINY
    ).fit(df)
    with pytest.raises(InvalidParameterError, match=r"warm_start.*missing='mask'"):
        model.set_params(warm_start=True).fit(df)


def test_a_column_complete_at_fit_but_missing_at_predict_is_imputed_with_a_warning() -> None:
    df = _long()
    df.loc[10, "y"] = np.nan  # only y gets a channel
    model = LSTMForecaster(id_col="id", time_col="t", target="y", missing="mask", **TINY).fit(df)
    assert model.missing_columns_ == ["y"]
    history = df.copy()
    history.loc[35, "x"] = np.nan
    with pytest.warns(UserWarning, match=r"\['x'\] have missing values but were complete"):
        out = model.predict(history)
    assert np.isfinite(out["y"]).all()


def test_missing_is_validated_and_passed_through_an_ensemble() -> None:
    with pytest.raises(InvalidParameterError, match="'missing' parameter"):
        NaiveForecaster(missing="drop").fit(_long().query("id == 's0'").set_index("t")[["y"]])
    base = RNNForecaster(id_col="id", time_col="t", target="y", freq="D", missing="mask", **TINY)
    ensemble = EnsembleForecaster(base, n_members=2)
    assert ensemble.get_params()["estimator__missing"] == "mask"
    assert ensemble.missing == "mask"
    out = ensemble.fit(_gappy()).predict()
    assert np.isfinite(out["y"]).all()


def test_baselines_read_observed_values_only() -> None:
    t = pd.date_range("2024-01-01", periods=9, freq="D")
    df = pd.DataFrame({"y": [1.0, 2, 3, 4, np.nan, 6, 7, np.nan, np.nan]}, index=t)
    naive = NaiveForecaster(horizon=2, missing="mask").fit(df)
    assert naive.predict()["y"].tolist() == [7.0, 7.0]
    seasonal = SeasonalNaiveForecaster(season_length=3, horizon=3, missing="mask").fit(df)
    assert seasonal.predict()["y"].tolist() == [7.0, 2.0, 6.0]  # 8, 9 from a season back
    drift = DriftForecaster(horizon=1, missing="mask").fit(df)
    assert drift.predict()["y"].tolist() == pytest.approx([10.0])  # slope 1 from 1 to 7
    with pytest.raises(MissingHistoryError, match="never observed"):
        NaiveForecaster(missing="mask").fit(df.assign(y=np.nan))


# ------------------------------------------------------------------------- fill_gaps


@pytest.mark.parametrize(
    ("freq", "tz"),
    [("D", None), ("MS", None), ("B", None), ("D", "Europe/Berlin"), ("h", "Europe/Berlin")],
)
def test_fill_gaps_round_trips_wide_and_long(freq, tz) -> None:
    times = pd.date_range("2021-03-01", periods=60, freq=freq, tz=tz)
    full = pd.DataFrame({"y": np.arange(60.0), "k": 3}, index=times.rename("t"))
    gappy = full.drop(times[[3, 4, 20, 41]])
    filled = fill_gaps(gappy, freq=freq)
    assert filled.index.equals(full.index)
    assert filled["y"].isna().sum() == 4
    assert filled.dropna(subset=["y"]).astype(gappy.dtypes.to_dict()).equals(gappy)

    long = pd.concat(
        [gappy.reset_index().assign(store="a"), full.iloc[5:50].reset_index().assign(store="b")],
        ignore_index=True,
    )[["store", "t", "y", "k"]]
    out = fill_gaps(long, freq=freq, id_col="store", time_col="t", static=["k"])
    assert (out["store"] == "a").sum() == 60
    assert (out["store"] == "b").sum() == 45
    assert out["k"].eq(3).all()
    assert out["k"].dtype == long["k"].dtype
    assert out["t"].dtype == long["t"].dtype
    back = out.dropna(subset=["y"]).reset_index(drop=True)
    assert back.equals(long)


def test_fill_gaps_never_invents_a_value_a_static_column_is_named() -> None:
    # A target that happens to be constant (a series of zeros) is not a static column: the
    # inserted rows are NaN, and the constant columns not named are said.
    df = pd.DataFrame(
        {
            "id": ["a", "a", "b", "b"],
            "t": pd.to_datetime(["2024-01-01", "2024-01-04", "2024-01-01", "2024-01-03"]),
            "y": [0.0, 0.0, 5.0, 5.0],
            "size": [1, 1, 2, 2],
        }
    )
    with pytest.warns(UserWarning, match=r"Columns \['y'\] are constant within each series"):
        out = fill_gaps(df, freq="D", id_col="id", time_col="t", static=["size"])
    inserted = out[~out.set_index(["id", "t"]).index.isin(df.set_index(["id", "t"]).index)]
    assert len(inserted) == 3
    assert inserted["y"].isna().all()
    assert inserted["size"].tolist() == [1, 1, 2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # y, said above
        one = fill_gaps(df, freq="D", id_col="id", time_col="t", static="size")  # a str: one
    pd.testing.assert_frame_equal(one, out)
    with pytest.raises(DataError, match=r"a wide frame .* has none"):
        fill_gaps(df[df["id"] == "a"].set_index("t")[["y"]], freq="D", static=["size"])
    with pytest.raises(DataError, match="static column 'y' is not constant within series 'c'"):
        fill_gaps(
            pd.concat([df, df.iloc[:2].assign(id="c", y=[1.0, 2.0])]),
            freq="D", id_col="id", time_col="t", static=["y"],
        )  # fmt: skip


def test_fill_gaps_extends_to_start_and_end_and_refuses_off_grid_stamps() -> None:
    df = pd.DataFrame(
        {"id": ["a", "a"], "t": pd.to_datetime(["2024-01-02", "2024-01-04"]), "y": [1.0, 2.0]}
    )
    out = fill_gaps(df, freq="D", id_col="id", time_col="t", start="2024-01-01", end="2024-01-05")
    assert out["t"].dt.day.tolist() == [1, 2, 3, 4, 5]
    assert out["y"].isna().tolist() == [True, False, True, False, True]
    with pytest.raises(DataError, match=r"2024-01-02.*not on freq 'W-SUN'"):
        fill_gaps(df, freq="W-SUN", id_col="id", time_col="t")


def test_gap_and_nan_errors_suggest_code_for_the_layout() -> None:
    long = _long().drop(index=[5])
    with pytest.raises(DataError) as info:
        NaiveForecaster(id_col="id", time_col="t", target="y", freq="D").fit(long)
    message = str(info.value)
    assert "fill_gaps(df, freq='D', id_col='id', time_col='t')" in message
    assert "groupby('id')" in message
    assert "resample" not in message
    wide = _long(n_series=1).drop(columns="id").set_index("t")
    wide = wide.drop(index=wide.index[5])
    with pytest.raises(DataError, match=r"fill_gaps\(df, freq='D'\).*resample\('D'\)"):
        NaiveForecaster(freq="D").fit(wide)
    nan = _long()
    nan.loc[3, "y"] = np.nan
    with pytest.raises(DataError, match=r"groupby\('id'\)\['y'\]\.ffill\(\)") as info:
        NaiveForecaster(id_col="id", time_col="t", target="y").fit(nan)
    assert "df.ffill()" not in str(info.value)
    masked = NaiveForecaster(id_col="id", time_col="t", target="y", missing="mask").fit(nan)
    assert masked.predict()["y"].notna().all()


# ------------------------------------------------------------------------- evaluation


def test_backtest_skips_missing_actuals_and_says_so() -> None:
    df = _long(n_series=2, n=30).drop(columns="x")
    df.loc[[27, 28], "y"] = np.nan  # in the last window of s0
    model = NaiveForecaster(id_col="id", time_col="t", target="y", horizon=3, missing="mask")
    result = backtest(model, df, n_windows=2, metrics=["mae", "smape", "mase"])
    assert result.missing_actuals == 2
    assert result.forecasts["actual"].isna().sum() == 2
    row = result.metrics.query("id == 's0' and window == 1").iloc[0]
    assert row["n_actual"] == 1
    kept = result.forecasts.query("id == 's0' and window == 1").dropna(subset=["actual"])
    assert row["mae"] == pytest.approx((kept["actual"] - kept["forecast"]).abs().mean())
    assert np.isfinite(result.metrics[["mae", "smape", "mase"]].to_numpy()).all()


def test_conformal_calibration_skips_missing_actuals_and_counts_the_rest() -> None:
    df = _long(n_series=2, n=40).drop(columns="x")
    kw = dict(id_col="id", time_col="t", target="y", horizon=2, intervals="conformal")
    kw |= dict(coverage=0.8, calibration_windows=10)
    full = NaiveForecaster(**kw).fit(df)
    assert full.n_calibration_ == 20  # 10 origins x 2 series
    df.loc[[36, 37, 78], "y"] = np.nan  # actuals inside the calibration tails
    masked = NaiveForecaster(missing="mask", **kw).fit(df)
    assert masked.n_calibration_ < 20
    out = masked.predict()
    assert np.isfinite(out[["y", "y_q0.1", "y_q0.9"]].to_numpy()).all()
    assert (out["y_q0.1"] <= out["y"]).all()
    assert (out["y"] <= out["y_q0.9"]).all()


def test_score_skips_missing_actuals() -> None:
    df = _long(n_series=2, n=30).drop(columns="x")
    model = NaiveForecaster(id_col="id", time_col="t", target="y", horizon=3, missing="mask")
    model.fit(df)
    gappy = df.copy()
    gappy.loc[28, "y"] = np.nan  # one of s0's three held-out actuals
    score = model.score(gappy)
    history = df.iloc[:27]["y"].to_numpy()
    s0 = np.abs(df.loc[[27, 29], "y"] - history[-1]).mean() / np.abs(np.diff(history)).mean()
    h1 = df.iloc[30:57]["y"].to_numpy()
    s1 = np.abs(df.iloc[57:60]["y"] - h1[-1]).mean() / np.abs(np.diff(h1)).mean()
    assert score == pytest.approx(-(s0 + s1) / 2)


def _flat_then_jump(nan_in: str | None) -> pd.DataFrame:
    """'a' constant for 9 days then a jump (its MASE is undefined), 'b' random; one NaN in
    the history of ``nan_in``, if any."""
    t = pd.date_range("2020-01-01", periods=12, freq="D")
    a = pd.DataFrame({"id": "a", "t": t, "y": [5.0] * 9 + [9.0] * 3})
    b = pd.DataFrame({"id": "b", "t": t, "y": np.random.default_rng(0).normal(size=12) + 5})
    df = pd.concat([a, b], ignore_index=True)
    if nan_in is not None:
        df.loc[df.index[df["id"] == nan_in][2], "y"] = np.nan
    return df


@pytest.mark.parametrize("nan_in", [None, "b"])
def test_an_undefined_mase_of_a_complete_history_is_an_error_whatever_other_series_hold(
    nan_in,
) -> None:
    """A NaN in 'b' once turned 'a''s error into a NaN that score and summary() averaged
    away: the choice is per history, so 'a' fails as it does without any NaN."""
    df = _flat_then_jump(nan_in)
    model = NaiveForecaster(id_col="id", time_col="t", target="y", horizon=3, missing="mask")
    with pytest.raises(DataError, match=r"MASE is undefined for target 'y' of .*series 'a'"):
        model.fit(df).score(df)
    with pytest.raises(DataError, match="MASE is undefined for target 'y' of series 'a'"):
        backtest(model, df, n_windows=1)


def test_a_complete_history_too_short_for_the_season_is_an_error_beside_a_nan() -> None:
    df = _flat_then_jump("b")
    df.loc[df["id"] == "a", "y"] = np.arange(12.0)  # a defined scale, but only 9 rows
    model = NaiveForecaster(id_col="id", time_col="t", target="y", horizon=3, missing="mask")
    with pytest.raises(DataError, match="season_length=9 needs more than 9 history rows"):
        backtest(model, df, n_windows=1, season_length=9)


def test_an_undefined_masked_mase_is_named_where_means_leave_it_out() -> None:
    """'a' has a NaN of its own: its MASE is NaN, legitimately; score and summary() average
    the others and say which series and windows they left out."""
    df = _flat_then_jump("a")
    model = NaiveForecaster(id_col="id", time_col="t", target="y", horizon=3, missing="mask")
    with pytest.warns(UserWarning, match=r"score leaves out 1 of 2 MASE term\(s\).*series 'a'"):
        score = model.fit(df).score(df)
    b = df[df["id"] == "b"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # b alone is fully defined: nothing to say
        assert score == pytest.approx(model.fit(b).score(b))
    result = backtest(model.fit(df), df, n_windows=1)
    assert result.metrics["mase"].isna().tolist() == [True, False]
    with pytest.warns(UserWarning, match=r"'mase' at 1 of 2 row\(s\) \(id 'a' window 0\)"):
        summary = result.summary()
    assert summary.loc["y", "mase"] == result.metrics["mase"].iloc[1]


def test_masked_frequency_inference_reads_a_series_without_gaps() -> None:
    """The frequency was inferred from the longest series only: under missing='mask', when
    that one had a gap, the fit was refused ('irregular ... fit with missing='mask' and
    freq=') although masking was set and another series showed the grid (a fit from parts
    reads a sample of its first part, where this is likelier)."""
    df = _long(n_series=3, n=40)
    longest = pd.DataFrame(
        {"id": "s9", "t": pd.date_range("2020-12-01", periods=60, freq="D"), "y": 1.0, "x": 0.0}
    ).drop(index=[10, 11, 30])  # longest, with gaps
    frame = pd.concat([df, longest], ignore_index=True)
    panel, _ = to_panel(frame, id_col="id", time_col="t", target="y", missing="mask")
    assert panel.freq == pd.offsets.Day()
    assert panel.lengths.tolist() == [40, 40, 40, 60]  # s9's gaps inserted as rows
    with pytest.raises(DataError, match="fit with missing='mask' and freq="):
        to_panel(frame, id_col="id", time_col="t", target="y")  # unmasked: as before
    gaps_only = longest.assign(id="s8")
    with pytest.raises(DataError, match=r"With missing='mask', pass freq= \(e.g. freq='D'\)"):
        to_panel(gaps_only, id_col="id", time_col="t", target="y", missing="mask")
