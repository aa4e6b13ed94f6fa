"""``partial_horizons=True``: training windows whose horizon runs past a series' training part.

What a user relies on: those windows are listed (every input row inside the series, at least
one target row too), their rows past the end are never read from another series or from the
validation tail and never reach the loss, a series needs ``seq_len + 1`` rows instead of
``seq_len + horizon``, and every way of fitting (in memory, masked, from Parquet parts) trains
on the same windows.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import FAST
from hypothesis import given, settings
from hypothesis import strategies as st

import forecast
from forecast import DataError, InvalidParameterError, LSTMForecaster, RNNForecaster
from forecast.data.masking import observed_windows
from forecast.forecasters._fit_windows import fit_windows
from forecast.windowing import WindowDataset, WindowIndex


@st.composite
def panels(draw):
    seq_len = draw(st.integers(1, 8))
    horizon = draw(st.integers(1, 6))
    lengths = draw(st.lists(st.integers(0, seq_len + horizon + 12), min_size=1, max_size=5))
    margins = [draw(st.integers(0, max(n - seq_len - 1, 0))) for n in lengths]
    past_end = draw(st.integers(0, horizon - 1))
    return seq_len, horizon, np.asarray(lengths), np.asarray(margins), past_end


@settings(max_examples=150, deadline=None)
@given(panels())
def test_windows_past_the_end_are_exactly_those_with_inputs_and_a_target_inside(case):
    seq_len, horizon, lengths, margins, past_end = case
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    index = WindowIndex.build(offsets, seq_len, horizon, end_margin=margins, past_end=past_end)
    starts, series = index.locate(np.arange(len(index)))
    expected = [
        (offsets[i] + k, i)
        for i, n in enumerate(lengths)
        for k in range(n)
        # the input and at least horizon - past_end targets inside the series, less the margin
        if k + seq_len + horizon - past_end <= n - margins[i]
    ]
    assert sorted(zip(starts.tolist(), series.tolist(), strict=True)) == expected


def test_past_end_must_leave_one_target_inside() -> None:
    offsets = np.array([0, 20])
    with pytest.raises(ValueError, match="past_end must be in"):
        WindowIndex.build(offsets, 4, 3, past_end=3)


@settings(max_examples=80, deadline=None)
@given(panels(), st.integers(1, 3))
def test_a_window_past_the_end_reads_no_row_after_it_and_masks_those_targets(case, n_targets):
    seq_len, horizon, lengths, margins, _ = case
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    ends = offsets[1:] - margins
    rng = np.random.default_rng(int(lengths.sum()))
    values = rng.standard_normal((int(offsets[-1]), n_targets)).astype(np.float32)
    for i in range(len(lengths)):  # a validation tail no window may read
        values[ends[i] : offsets[i + 1]] = np.nan
    index = WindowIndex.build(offsets, seq_len, horizon, end_margin=margins, past_end=horizon - 1)
    if not len(index):
        return
    data = WindowDataset(
        values, index, seq_len=seq_len, horizon=horizon, n_targets=n_targets, target_ends=ends
    )
    batch = data.__getitems__(list(range(len(index))))
    x, y, mask = batch["x"].numpy(), batch["y"].numpy(), batch["mask"].numpy()
    assert np.isfinite(x).all()
    assert np.isfinite(y).all()
    starts, series = index.locate(np.arange(len(index)))
    for j, (start, s) in enumerate(zip(starts, series, strict=True)):
        np.testing.assert_array_equal(x[j], values[start : start + seq_len])
        inside = min(horizon, ends[s] - start - seq_len)
        assert inside >= 1
        target_rows = values[start + seq_len : start + seq_len + inside]
        np.testing.assert_array_equal(y[j, :inside], target_rows)
        np.testing.assert_array_equal(mask[j, :inside], 1.0)
        np.testing.assert_array_equal(mask[j, inside:], 0.0)


def test_a_masked_target_stays_masked_inside_the_end() -> None:
    """Under missing="mask" the batch's mask is the observed channel times the rows inside
    the end: a missing target before the end is not trained on either."""
    # one series of 8 rows: value, observed channel; row 5 missing (imputed 0, channel 0)
    values = np.stack([np.arange(1.0, 9.0), np.ones(8)], axis=1).astype(np.float32)
    values[5] = [0.0, 0.0]
    index = WindowIndex.build(np.array([0, 8]), 4, 3, past_end=2)  # starts 0..3
    data = WindowDataset(
        values, index, seq_len=4, horizon=3, n_targets=1, target_channels=[1],
        target_ends=np.array([8]),
    )  # fmt: skip
    mask = data.__getitems__([0, 1, 2, 3])["mask"][..., 0].numpy()
    np.testing.assert_array_equal(
        mask,
        [
            [1, 0, 1],  # targets at rows 4, 5 (missing), 6
            [0, 1, 1],  # 5 (missing), 6, 7
            [1, 1, 0],  # 6, 7, 8 (past the end)
            [1, 0, 0],  # 7, 8, 9 (past the end)
        ],
    )


def test_the_observed_count_of_a_masked_window_stops_at_the_end() -> None:
    # one series of 10 rows; its last two are missing; seq_len 4, horizon 3
    offsets = np.array([0, 10])
    observed = np.ones(10, dtype=bool)
    observed[8:] = False
    index = WindowIndex.build(offsets, 4, 3, past_end=2)  # starts 0..5
    kept = observed_windows(index, observed, 4, 3, target_ends=np.array([10]))
    # start 4 has targets 8, 9 (missing) and 10 (past the end): nothing to learn, dropped;
    # start 5 has targets 9 and two past the end: dropped; the rest have an observed target
    assert kept.starts.tolist() == [0, 1, 2, 3]


def _frame(lengths: dict[str, int], seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    parts = []
    for sid, n in lengths.items():
        t = np.arange(n)
        y = 20 + 3 * np.sin(2 * np.pi * t / 12) + 0.05 * t + 0.2 * rng.standard_normal(n)
        parts.append(
            pd.DataFrame(
                {"unique_id": sid, "ds": pd.date_range("2001-01-01", periods=n, freq="MS"), "y": y}
            )
        )
    return pd.concat(parts, ignore_index=True)


PARAMS = {**FAST, "seq_len": 12, "horizon": 6, "validation_size": 0}


def test_a_series_of_seq_len_plus_one_rows_trains_only_with_partial_horizons() -> None:
    df = _frame({"long": 60, "short": 14})  # 14 < seq_len + horizon = 18, >= 13
    with pytest.raises(DataError, match=r"partial_horizons=True \(seq_len \+ 1 rows\)"):
        LSTMForecaster(**PARAMS).fit(df)
    model = LSTMForecaster(**PARAMS, partial_horizons=True).fit(df)
    out = model.predict()
    assert sorted(out["unique_id"].unique()) == ["long", "short"]
    assert np.isfinite(out["y"]).all()
    with pytest.raises(DataError, match=r"seq_len \+ 1 = 13 rows"):
        LSTMForecaster(**PARAMS, partial_horizons=True).fit(_frame({"a": 60, "b": 12}))


def test_the_training_windows_cover_every_input_window_that_has_a_target() -> None:
    model = LSTMForecaster(**PARAMS, partial_horizons=True)
    lengths = np.array([60, 14, 30])
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    train, val, ends = fit_windows(model, offsets, np.array([0, 0, 6]))
    assert ends.tolist() == [60, 74, 98]  # where each series' training targets end
    # a window per start with seq_len inputs and a target before the series' (or tail's) end
    assert np.diff(train.cumulative).tolist() == [60 - 12, 14 - 12, 30 - 6 - 12]
    assert np.diff(val.cumulative).tolist() == [0, 0, 1]  # validation windows stay whole
    whole = fit_windows(LSTMForecaster(**PARAMS), offsets, np.array([0, 0, 6]))
    assert np.diff(whole.train.cumulative).tolist() == [60 - 17, 0, 30 - 6 - 17]
    assert whole.train_ends is None


@pytest.mark.parametrize("loss", ["mae", "mape"])
@pytest.mark.parametrize("missing", ["raise", "mask"])
def test_partial_horizons_fit_with_a_validation_tail_masked_or_not(loss, missing) -> None:
    df = _frame({"a": 60, "b": 40, "c": 26})
    if missing == "mask":
        df.loc[5, "y"] = np.nan
    model = LSTMForecaster(
        **{**PARAMS, "validation_size": 6, "max_epochs": 3},
        partial_horizons=True,
        loss=loss,
        missing=missing,
        scaler="window_level",
    ).fit(df)
    assert np.isfinite(model.history_["train_loss"]).all()
    assert np.isfinite(model.history_["val_loss"]).all()
    assert np.isfinite(model.predict()["y"]).all()


def test_the_validation_tail_never_reaches_training() -> None:
    """Two frames that differ only in the validation tails train the same network when the
    validation loss picks nothing (early stopping off, the last weights kept)."""
    df = _frame({"a": 40, "b": 30})
    other = df.copy()
    tail = df.groupby("unique_id").cumcount(ascending=False) < 6
    other.loc[tail, "y"] = other.loc[tail, "y"] * 100.0
    params = {
        **PARAMS,
        "validation_size": 6,
        "early_stopping_patience": None,
        "partial_horizons": True,
    }
    first = LSTMForecaster(**params).fit(df)
    second = LSTMForecaster(**params).fit(other)
    np.testing.assert_array_equal(
        first.history_["train_loss"].to_numpy(), second.history_["train_loss"].to_numpy()
    )


def test_known_future_covariates_are_refused_before_training(no_training) -> None:
    df = _frame({"a": 40})
    df["promo"] = 0.0
    with pytest.raises(InvalidParameterError, match=r"partial_horizons=True.*future_covariates"):
        LSTMForecaster(**PARAMS, partial_horizons=True, future_covariates=["promo"]).fit(df)


def test_a_saved_model_keeps_partial_horizons(tmp_path) -> None:
    df = _frame({"a": 40, "b": 15})
    model = LSTMForecaster(**PARAMS, partial_horizons=True).fit(df)
    forecast.save(model, tmp_path / "m.forecast")
    loaded = forecast.load(tmp_path / "m.forecast")
    assert loaded.get_params()["partial_horizons"] is True
    pd.testing.assert_frame_equal(loaded.predict(), model.predict())


def _write(df: pd.DataFrame, folder, groups: list[list[str]]) -> None:
    folder.mkdir()
    for k, ids in enumerate(groups):
        part = df[df["unique_id"].isin(ids)]
        pq.write_table(pa.Table.from_pandas(part, preserve_index=False), folder / f"p{k}.parquet")


@pytest.mark.parametrize("missing", ["raise", "mask"])
@pytest.mark.parametrize("validation_size", [0, 6])
def test_a_fit_from_parts_trains_on_the_same_windows_as_the_frame(
    tmp_path, missing, validation_size
) -> None:
    # with a tail of 6, b (15 rows) keeps 9 training rows, under the 13 of one window:
    # dropped by both fits, as d (8); e keeps 15, fewer than seq_len + horizon = 18
    df = _frame({"a": 50, "b": 15, "c": 36, "d": 14, "e": 21})
    if missing == "mask":
        df.loc[7, "y"] = np.nan
    _write(df, tmp_path / "parts", [["a", "b"], ["c", "d", "e"]])
    params = {
        **PARAMS,
        "max_epochs": 1,
        "scaler": "window_level",
        "partial_horizons": True,
        "missing": missing,
        "validation_size": validation_size,
        "drop_short": True,
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        single = RNNForecaster(**params).fit(df)
    dropped = [str(w.message) for w in caught if "Dropped" in str(w.message)]
    assert bool(dropped) == (validation_size > 0)
    expected = single.predict()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = RNNForecaster(**params).fit(forecast.parts(tmp_path / "parts"))
    assert [str(w.message) for w in caught if "Dropped" in str(w.message)] == dropped
    assert model.series_ids_ == single.series_ids_
    pd.testing.assert_frame_equal(model.predict(), expected)  # bit for bit: one process
    np.testing.assert_array_equal(
        model.history_["train_loss"].to_numpy(), single.history_["train_loss"].to_numpy()
    )


def test_an_ensemble_trains_every_member_on_the_series_all_can_train_on(no_training) -> None:
    df = _frame({"a": 60, "b": 14})  # b: 14 rows, enough only with partial horizons
    base = LSTMForecaster(**PARAMS, partial_horizons=True)
    members = [{}, {"partial_horizons": False}]
    with pytest.raises(DataError, match="series 'b' has 14"):  # before any member trains
        forecast.EnsembleForecaster(base, n_members=2, member_params=members).fit(df)


def test_an_ensemble_drops_what_one_member_cannot_train_on() -> None:
    df = _frame({"a": 60, "b": 14, "c": 40})
    base = LSTMForecaster(**PARAMS, partial_horizons=True, drop_short=True)
    model = forecast.EnsembleForecaster(
        base, n_members=2, member_params=[{}, {"partial_horizons": False}]
    )
    with pytest.warns(UserWarning, match="Dropped 1 series"):
        model.fit(df)
    assert [m.series_ids_ for m in model.members_] == [["a", "c"], ["a", "c"]]
    out = model.predict()
    assert sorted(out["unique_id"].unique()) == ["a", "c"]
    assert np.isfinite(out["y"]).all()


def test_the_short_series_error_suggests_partial_horizons_only_where_it_is_allowed() -> None:
    df = _frame({"a": 60, "b": 14})
    df["promo"] = 0.0
    with pytest.raises(DataError) as without:
        LSTMForecaster(**PARAMS, past_covariates=[]).fit(df)
    assert "partial_horizons=True" in str(without.value)
    with pytest.raises(DataError) as refused:
        LSTMForecaster(**PARAMS, future_covariates=["promo"]).fit(df)
    assert "partial_horizons" not in str(refused.value)


@pytest.mark.slow
def test_two_ranks_with_partial_horizons_forecast_as_one_process(tmp_path) -> None:
    # b and d only have windows past their ends: the rank reading them masks every batch
    df = _frame({"a": 50, "b": 15, "c": 36, "d": 14})
    _write(df, tmp_path / "parts", [["a", "c"], ["b", "d"]])
    params = {**PARAMS, "max_epochs": 2, "batch_size": 16, "partial_horizons": True}
    single = RNNForecaster(**params).fit(df)
    two = {"accelerator": "cpu", "devices": 2, "strategy": "ddp_spawn"}
    model = RNNForecaster(**params, trainer_kwargs=two).fit(forecast.parts(tmp_path / "parts"))
    np.testing.assert_allclose(model.predict()["y"], single.predict()["y"], atol=1e-5)
