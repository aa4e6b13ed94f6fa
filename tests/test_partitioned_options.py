"""A fit from Parquet parts with ``target_transform`` and ``warm_start``, and the refusals.

Each 2-rank fit (``ddp_spawn`` on two CPU processes) is compared with a single-process
``fit`` of the same frame, same seed and step budget, as in ``tests/test_partitioned.py``:
the two differ only in the order floats are summed (1e-7 seen), so 1e-5 on the forecasts
holds, far below what a wrong lambda, scaler or starting weight gives (1e-2 and up).
"""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from test_partitioned import GROUPS, PARAMS, TWO_RANKS, _panel, _write

import forecast
from forecast import DataError, InvalidParameterError, LSTMForecaster, RNNForecaster
from forecast.data import hiding


@pytest.mark.slow
def test_a_box_cox_transform_is_fitted_per_series_in_its_rank_as_in_one_process(tmp_path):
    df = _panel()
    _write(df, tmp_path / "parts", GROUPS)
    params = {**PARAMS, "target_transform": "boxcox", "static_covariates": "size"}
    single = LSTMForecaster(**params).fit(df)
    model = LSTMForecaster(**params, trainer_kwargs=TWO_RANKS).fit(
        forecast.parts(tmp_path / "parts")
    )

    # Each series' lambda, fitted in the rank that read it, in the canonical order.
    assert model.target_lambdas_.shape == (6, 1)
    np.testing.assert_allclose(model.target_lambdas_, single.target_lambdas_, rtol=1e-12)
    assert np.ptp(single.target_lambdas_) > 0.1  # different per series: the order matters
    np.testing.assert_allclose(model.last_window_, single.last_window_, rtol=1e-6)
    expected, got = single.predict(), model.predict()
    np.testing.assert_allclose(got["y"], expected["y"], rtol=0, atol=1e-5)
    assert np.abs(expected["y"]).min() > 5  # in original units (the level is 10 and up)
    # Saved and loaded: its lambdas travel with it.
    path = tmp_path / "m.safetensors"
    model.save(path)
    pd.testing.assert_frame_equal(forecast.load(path).predict(), got)


@pytest.mark.slow
def test_seasonal_indices_are_fitted_per_series_in_its_rank_as_in_one_process(tmp_path):
    """target_transform="deseasonalize": each rank fits the indices of the series it reads
    (by calendar position), gathered in the canonical order (issue 22 on issue 21's fit)."""
    df = _panel()
    week = np.array([0.7, 1.0, 1.1, 1.2, 1.0, 0.9, 1.1])
    df["y"] = df["y"] * week[df["ds"].dt.day_of_week.to_numpy()]
    _write(df, tmp_path / "parts", GROUPS)
    params = {**PARAMS, "target_transform": "deseasonalize", "season_length": 7}
    single = LSTMForecaster(**params).fit(df)
    model = LSTMForecaster(**params, trainer_kwargs=TWO_RANKS).fit(
        forecast.parts(tmp_path / "parts")
    )
    assert model.target_lambdas_.shape == (6, 1, 7, 2)
    np.testing.assert_allclose(model.target_lambdas_, single.target_lambdas_, rtol=1e-12)
    assert np.ptp(single.target_lambdas_[..., 0]) > 0.2  # seasonal, per series: the order matters
    np.testing.assert_allclose(model.predict()["y"], single.predict()["y"], rtol=0, atol=1e-5)


@pytest.mark.slow
def test_a_log_transform_of_a_non_positive_value_in_one_rank_is_refused_naming_it(tmp_path):
    df = _panel()
    df.loc[(df["unique_id"] == "s4") & (df["ds"] == "2020-01-07"), "y"] = -1.0
    _write(df, tmp_path / "parts", GROUPS)
    model = RNNForecaster(**PARAMS, target_transform="log", trainer_kwargs=TWO_RANKS)
    with pytest.raises(DataError, match=r"s4"):
        model.fit(forecast.parts(tmp_path / "parts"))
    assert not [name for name in vars(model) if name.endswith("_")]  # left unfitted


@pytest.mark.slow
def test_conformal_intervals_from_parts_are_calibrated_as_in_one_process(tmp_path):
    df = _panel()
    _write(df, tmp_path / "parts", GROUPS)
    params = {**PARAMS, "intervals": "conformal", "coverage": [0.8, 0.95], "calibration_windows": 4}
    single = RNNForecaster(**params).fit(df)
    model = RNNForecaster(**params, trainer_kwargs=TWO_RANKS).fit(
        forecast.parts(tmp_path / "parts")
    )

    # The calibration fit on each series' head (two ranks), every series' scores pooled.
    assert model.n_calibration_ == single.n_calibration_ == 6 * 4
    np.testing.assert_allclose(model.conformal_quantiles_, single.conformal_quantiles_, atol=1e-5)
    np.testing.assert_allclose(model.conformal_scale_, single.conformal_scale_, rtol=1e-12)
    expected, got = single.predict(), model.predict()
    assert list(got.columns) == list(expected.columns)  # y, y_q0.025, ... y_q0.975
    np.testing.assert_allclose(got.iloc[:, 2:], expected.iloc[:, 2:], rtol=0, atol=1e-5)
    assert (got["y_q0.975"] > got["y_q0.9"]).all()
    assert (got["y_q0.9"] > got["y"]).all()


@pytest.mark.slow
def test_a_warm_start_from_parts_continues_as_a_warm_start_in_one_process(tmp_path):
    df = _panel()
    _write(df, tmp_path / "parts", GROUPS)
    # The old model has seen s0..s3 only: s4 and s5 get statistics fitted on their own.
    old = RNNForecaster(**PARAMS).fit(df[df["unique_id"].isin(["s0", "s1", "s2", "s3"])])
    params = {**PARAMS, "warm_start": True, "random_state": 1}
    single = copy.deepcopy(old).set_params(**params).fit(df)
    model = copy.deepcopy(old).set_params(**params, trainer_kwargs=TWO_RANKS)
    model.fit(forecast.parts(tmp_path / "parts"))

    assert model.series_ids_ == single.series_ids_
    np.testing.assert_array_equal(model.scaler_.loc_[:4], old.scaler_.loc_)  # kept
    np.testing.assert_allclose(model.scaler_.loc_, single.scaler_.loc_, rtol=1e-6)
    np.testing.assert_allclose(model.predict()["y"], single.predict()["y"], rtol=0, atol=1e-5)
    # A cold fit is another model: the warm one did start from the old weights.
    cold = RNNForecaster(**{**PARAMS, "random_state": 1}).fit(df)
    assert np.abs(cold.predict()["y"] - model.predict()["y"]).max() > 1e-2


@pytest.mark.parametrize("transform", ["boxcox", "deseasonalize"])
def test_a_warm_start_from_parts_keeps_the_transform_state_of_the_seen_series(tmp_path, transform):
    """One process reading parts: the series the old model saw keep their lambdas (or
    seasons), in whose units the kept scalers' statistics are; a new series gets its own."""
    df = _panel()
    week = np.array([0.7, 1.0, 1.1, 1.2, 1.0, 0.9, 1.1])
    t = (df["ds"] - df["ds"].min()).dt.days.to_numpy()
    df["y"] = df["y"] * np.exp(0.03 * t) * week[df["ds"].dt.day_of_week.to_numpy()]
    _write(df, tmp_path / "parts", GROUPS)
    seen = df["unique_id"] != "s5"
    first = df[seen & (df["ds"] < df["ds"].min() + pd.Timedelta(days=30))]
    params = {**PARAMS, "target_transform": transform, "season_length": 7}
    old = LSTMForecaster(**params).fit(first)
    before = old.predict(df[seen])
    model = copy.deepcopy(old).set_params(
        warm_start=True, warm_start_shrink=1.0, learning_rate=1e-30, trainer_kwargs={"max_steps": 1}
    )
    model.fit(forecast.parts(tmp_path / "parts"))
    np.testing.assert_array_equal(model.target_lambdas_[:5], old.target_lambdas_)
    np.testing.assert_allclose(model.predict(df[seen])["y"], before["y"], rtol=1e-6)
    cold = LSTMForecaster(**params).fit(df)
    np.testing.assert_allclose(model.target_lambdas_[5], cold.target_lambdas_[5], rtol=1e-12)
    assert np.abs(cold.target_lambdas_[:5] - old.target_lambdas_).max() > 1e-2


def test_a_warm_start_that_does_not_match_the_parts_is_refused_before_training(tmp_path):
    df = _panel()
    _write(df, tmp_path / "parts", GROUPS)
    old = RNNForecaster(**{**PARAMS, "max_epochs": 1}).fit(df)
    model = old.set_params(warm_start=True, hidden_size=5)
    with pytest.raises(InvalidParameterError, match=r"hidden_size: 6 -> 5"):
        model.fit(forecast.parts(tmp_path / "parts"))
    assert not [name for name in vars(model) if name.endswith("_")]  # left unfitted


@pytest.mark.slow
def test_a_masked_fit_from_parts_has_the_whole_panels_channels_and_windows(tmp_path, monkeypatch):
    df = _panel()
    df["promo"] = np.arange(len(df)) % 3.0
    df.loc[(df["unique_id"] == "s1") & df["ds"].between("2020-01-10", "2020-01-12"), "y"] = np.nan
    df.loc[(df["unique_id"] == "s3") & (df.index % 6 == 0), "y"] = np.nan  # inputs get hidden
    df.loc[(df["unique_id"] == "s2") & (df["ds"] == "2020-01-20"), "promo"] = np.nan
    df = df.drop(df.index[(df["unique_id"] == "s4") & df["ds"].between("2020-01-05", "2020-01-07")])
    _write(df, tmp_path / "parts", GROUPS)
    params = {
        **PARAMS,
        "missing": "mask",
        "freq": "D",  # a part's own series do not tell the frequency through a gap
        "static_covariates": "size",
        "validation_size": 0.2,  # validation windows are masked and weighted too
        "max_epochs": 3,
        "past_covariates": ["promo"],
    }
    single = RNNForecaster(**params).fit(df)
    source = forecast.parts(tmp_path / "parts")
    model = RNNForecaster(**params, trainer_kwargs=TWO_RANKS).fit(source)

    # Only one rank's parts miss a promo value (s2), and only one has a gap (s4): both ranks
    # feed the network both channels, as one process does.
    with_s2 = [r for r in source.reads if "s2" in r.ids]
    assert len(with_s2) == 1
    assert "s4" not in with_s2[0].ids
    assert model.missing_columns_ == single.missing_columns_ == ["y", "promo"]
    assert model.network_.config.input_size == single.network_.config.input_size == 2 + 2
    np.testing.assert_allclose(model.scaler_.loc_, single.scaler_.loc_, rtol=1e-6)
    np.testing.assert_array_equal(model.last_window_, single.last_window_)
    # Each batch weighted by its observed targets (not its windows): the same losses.
    losses = ["train_loss", "val_loss"]
    np.testing.assert_allclose(model.history_[losses], single.history_[losses], atol=1e-6)
    assert model.best_epoch_ == single.best_epoch_
    np.testing.assert_allclose(model.predict()["y"], single.predict()["y"], rtol=0, atol=1e-5)
    # Each rank hid the training inputs one process hides (the share over the whole panel,
    # the draws keyed by series and position); hiding none gives another model.
    monkeypatch.setattr(hiding, "RATE_FACTOR", 0.0)
    unhidden = RNNForecaster(**params).fit(df)
    assert np.abs(unhidden.predict()["y"] - single.predict()["y"]).max() > 1e-3


def test_bad_options_are_refused_before_reading(tmp_path):
    missing = forecast.parts(tmp_path / "nothing-here")
    with pytest.raises(DataError, match="not a folder of Parquet parts"):
        RNNForecaster(intervals="conformal").fit(missing)
    with pytest.raises(InvalidParameterError, match=r"'target_transform' .* one of"):
        RNNForecaster(target_transform="sqrt").fit(missing)
    with pytest.raises(InvalidParameterError, match=r"'missing' .* one of"):
        RNNForecaster(missing="drop").fit(missing)


# ------------------------------------------------------------------------------ checkpoints

SLOW = textwrap.dedent(
    """
    # forecast fit with epochs one second longer, so that the test can kill it mid-run. The
    # ranks ddp_spawn starts import this file as __mp_main__: they are slowed too.
    import sys, time
    from forecast.neural import training
    end = training._History.on_train_epoch_end
    def slow(self, trainer, module):
        end(self, trainer, module)
        time.sleep(1.0)
    training._History.on_train_epoch_end = slow
    if __name__ == "__main__":
        from forecast.cli.main import main
        sys.exit(main(sys.argv[1:]))
    """
)
FLAGS = [
    "--estimator", "rnn", "--seq-len", "8", "--horizon", "3", "--hidden-size", "6",
    "--max-epochs", "5", "--batch-size", "16", "--validation-size", "0",
    "--random-state", "0", "--trainer-kwargs", json.dumps(TWO_RANKS),
]  # fmt: skip


@pytest.mark.slow
def test_a_fit_from_parts_killed_and_run_again_resumes_as_one_uninterrupted_process(tmp_path):
    df = _panel()
    _write(df, tmp_path / "parts", GROUPS)
    (tmp_path / "slow.py").write_text(SLOW)
    command = ["fit", "--data", "parts", "--out", "m.safetensors", *FLAGS, "--checkpoint-dir", "ck"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    run = subprocess.Popen(
        [sys.executable, "slow.py", *command], cwd=tmp_path, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    last = tmp_path / "ck" / "fit-0" / "last.ckpt"
    try:
        deadline = time.monotonic() + 240
        while not last.exists() and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert last.exists(), "no checkpoint was written"
    finally:  # the calling process and both ranks, as a lost machine loses them
        os.killpg(run.pid, signal.SIGKILL)
        run.wait()
    assert not (tmp_path / "m.safetensors").exists()  # killed before the end
    epoch = torch.load(last, weights_only=False)["epoch"]
    assert epoch < 4

    again = subprocess.run(
        [sys.executable, "-m", "forecast", *command], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert "resuming the fit from" in again.stderr
    assert not (tmp_path / "ck").exists()  # finished: the checkpoints are gone
    resumed = forecast.load(tmp_path / "m.safetensors")
    single = RNNForecaster(**{**PARAMS, "max_epochs": 5}).fit(df)
    np.testing.assert_allclose(resumed.predict()["y"], single.predict()["y"], rtol=0, atol=1e-5)
    losses = ["train_loss"]  # every epoch's, the ones before the kill and after
    np.testing.assert_allclose(resumed.history_[losses], single.history_[losses], atol=1e-6)


def test_a_checkpointed_run_is_of_these_parts_a_rewritten_part_is_another_run(tmp_path):
    from forecast.cli.training import _differences, _fingerprint

    df = _panel()
    _write(df, tmp_path / "parts", GROUPS)
    model = RNNForecaster(**PARAMS)
    before = _fingerprint(model, forecast.parts(tmp_path / "parts"), None)
    assert _differences(before, _fingerprint(model, forecast.parts(tmp_path / "parts"), None)) == []
    table = pa.Table.from_pandas(df.head(50), preserve_index=False)
    pq.write_table(table, tmp_path / "parts" / "p0.parquet")
    after = _fingerprint(model, forecast.parts(tmp_path / "parts"), None)
    assert _differences(before, after) == ["the data (its rows or values)"]
