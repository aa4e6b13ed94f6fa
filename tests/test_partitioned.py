"""``fit(forecast.parts(folder))``: one model from Parquet parts, each DDP rank reading its own.

The 2-rank fits run Lightning's ``ddp_spawn`` on two CPU processes (gloo). Forecasts are
compared with a plain single-process ``fit`` of the same frame, same seed and step budget:
the partitioned sampler draws the same shuffled batches, and DDP averages the two ranks'
gradients of their weighted part of each batch (``forecast/forecasters/_partitioned.py``),
so the two fits differ only in the order floats are summed: 1e-5 is far above that (1e-7
seen) and far below any difference a wrong batch or scaling makes (1e-2 and up).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from conftest import run_main

import forecast
from forecast import DataError, DataTypeError, LSTMForecaster, NaiveForecaster, RNNForecaster
from forecast.data.parts import assign

TWO_RANKS = {"accelerator": "cpu", "devices": 2, "strategy": "ddp_spawn"}
PARAMS = {
    "seq_len": 8,
    "horizon": 3,
    "hidden_size": 6,
    "max_epochs": 2,
    "batch_size": 16,
    "validation_size": 0,
    "random_state": 0,
    "progress_bar": False,
}


def _panel(n_series: int = 6) -> pd.DataFrame:
    """Random walks of different lengths and levels, with a static covariate."""
    rng = np.random.default_rng(0)
    frames = []
    for i in range(n_series):
        length = 40 + 7 * i
        frames.append(
            pd.DataFrame(
                {
                    "unique_id": f"s{i}",
                    "ds": pd.date_range("2020-01-01", periods=length, freq="D"),
                    "y": 10.0 * (i + 1) + np.cumsum(rng.normal(size=length)),
                    "size": float(i % 3),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _write(df: pd.DataFrame, folder, groups: list[list[str]]) -> None:
    folder.mkdir()
    for k, ids in enumerate(groups):
        part = df[df["unique_id"].isin(ids)]
        pq.write_table(pa.Table.from_pandas(part, preserve_index=False), folder / f"p{k}.parquet")


GROUPS = [["s0", "s3"], ["s1", "s4"], ["s2", "s5"]]


@pytest.mark.slow
def test_two_ranks_read_disjoint_parts_and_forecast_as_one_process(tmp_path) -> None:
    df = _panel()
    _write(df, tmp_path / "parts", GROUPS)
    # A validation tail with early stopping: validation windows are sharded as training ones.
    params = {
        **PARAMS,
        "static_covariates": "size",
        "validation_size": 0.2,
        "max_epochs": 3,
        "early_stopping_patience": 1,
    }
    single = LSTMForecaster(**params).fit(df)
    source = forecast.parts(tmp_path / "parts")
    model = LSTMForecaster(**params, trainer_kwargs=TWO_RANKS).fit(source)

    # Each rank read only its own files: disjoint, together every row and series once.
    reads = sorted(source.reads, key=lambda r: r.rank)
    assert [r.rank for r in reads] == [0, 1]
    files = [set(r.files) for r in reads]
    assert not files[0] & files[1]
    assert len(files[0] | files[1]) == len(GROUPS)
    ids = [set(r.ids) for r in reads]
    assert not ids[0] & ids[1]
    assert ids[0] | ids[1] == set(df["unique_id"])
    assert sum(r.rows for r in reads) == len(df)
    assert all(0 < r.rows < len(df) for r in reads)  # no rank held the whole panel
    assert [r.values_bytes for r in reads] == [r.rows * 4 for r in reads]  # float32 y only

    # The same global model: per-series state gathered in the canonical order, the static
    # covariates scaled with the whole panel's statistics, the same forecasts.
    assert model.series_ids_ == single.series_ids_
    assert model.cutoffs_.equals(single.cutoffs_)
    np.testing.assert_allclose(model.static_scaler_.loc_, single.static_scaler_.loc_)
    np.testing.assert_array_equal(model.last_window_, single.last_window_)
    expected, got = single.predict(), model.predict()
    pd.testing.assert_frame_equal(got[["unique_id", "ds"]], expected[["unique_id", "ds"]])
    np.testing.assert_allclose(got["y"], expected["y"], rtol=0, atol=1e-5)
    # The same batches: each epoch's mean training and validation losses (over all windows)
    # agree too, and so the epoch whose weights were kept.
    losses = ["train_loss", "val_loss"]
    np.testing.assert_allclose(model.history_[losses], single.history_[losses], atol=1e-6)
    assert model.best_epoch_ == single.best_epoch_

    # A normal fitted estimator: saved, loaded, it forecasts the same.
    path = tmp_path / "m.safetensors"
    model.save(path)
    pd.testing.assert_frame_equal(forecast.load(path).predict(), got)


@pytest.mark.slow
def test_a_bad_series_in_one_rank_is_our_error_naming_it(tmp_path) -> None:
    df = _panel()
    df.loc[(df["unique_id"] == "s4") & (df["ds"] == "2020-01-05"), "y"] = np.nan
    _write(df, tmp_path / "parts", GROUPS)
    model = RNNForecaster(**PARAMS, trainer_kwargs=TWO_RANKS)
    with pytest.raises(DataError, match=r"NaN at 2020-01-05 .* in series 's4'"):
        model.fit(forecast.parts(tmp_path / "parts"))
    assert not [name for name in vars(model) if name.endswith("_")]  # left unfitted


@pytest.mark.slow
@pytest.mark.parametrize("loss", [None, "mape"])  # mape: an idle rank's batch has an offset
def test_a_rank_whose_series_are_all_too_short_drops_them_as_one_process(tmp_path, loss) -> None:
    long = _panel()
    short = pd.DataFrame(
        {
            "unique_id": np.repeat(["t0", "t1"], 9),
            "ds": np.tile(pd.date_range("2020-01-01", periods=9, freq="D"), 2),
            # A 0 in series that are dropped: not a value a relative loss trains on, so
            # neither one process nor a rank that drops them all warns of it.
            "y": np.r_[1.0, 0.0, np.arange(3.0, 19.0)],
            "size": 1.0,
        }
    )  # 9 rows: under seq_len + horizon = 11
    df = pd.concat([long, short], ignore_index=True)
    _write(df, tmp_path / "parts", [GROUPS[0] + GROUPS[1] + GROUPS[2], ["t0", "t1"]])
    params = {**PARAMS, "drop_short": True, "past_covariates": [], "loss": loss}
    with pytest.warns(UserWarning, match="Dropped 2 series too short"):
        single = RNNForecaster(**params).fit(df)
    source = forecast.parts(tmp_path / "parts")
    model = RNNForecaster(**params, trainer_kwargs=TWO_RANKS).fit(source)
    idle = next(r for r in source.reads if r.rows == len(short))
    assert idle.ids == []  # it read its part, and trained on zero windows with weight 0
    assert model.series_ids_ == single.series_ids_
    np.testing.assert_allclose(model.predict()["y"], single.predict()["y"], atol=1e-5)


def test_one_process_fit_from_parts_equals_the_fit_of_the_frame(tmp_path) -> None:
    df = _panel()
    _write(df, tmp_path / "parts", GROUPS)
    params = {**PARAMS, "max_epochs": 1, "scaler": "window_level"}
    expected = RNNForecaster(**params).fit(df).predict()
    got = RNNForecaster(**params).fit(forecast.parts(tmp_path / "parts")).predict()
    pd.testing.assert_frame_equal(got, expected)  # bit for bit: same batches, one process


def test_a_series_in_two_parts_is_refused_naming_it_and_both_parts(tmp_path) -> None:
    df = _panel()
    _write(df, tmp_path / "parts", [["s0", "s1", "s2"], ["s2", "s3", "s4", "s5"]])
    model = RNNForecaster(**PARAMS)
    with pytest.raises(DataError, match=r"series 's2' is in two parts, .*p0.parquet.*p1.parquet"):
        model.fit(forecast.parts(tmp_path / "parts"))


def test_hive_folders_named_after_the_id_give_the_series(tmp_path) -> None:
    df = _panel(3)
    pq.write_to_dataset(pa.Table.from_pandas(df), tmp_path / "hive", partition_cols=["unique_id"])
    params = {**PARAMS, "max_epochs": 1}
    expected = RNNForecaster(**params).fit(df).predict()
    got = RNNForecaster(**params).fit(forecast.parts(tmp_path / "hive")).predict()
    np.testing.assert_array_equal(got["y"], expected["y"])
    assert got["unique_id"].tolist() == expected["unique_id"].tolist()


def test_what_a_partitioned_fit_cannot_do_is_refused_before_reading(tmp_path) -> None:
    missing = forecast.parts(tmp_path / "nothing-here")
    with pytest.raises(DataError, match="not a folder of Parquet parts"):
        RNNForecaster().fit(missing)
    with pytest.raises(DataTypeError, match="NaiveForecaster cannot be fitted from Parquet"):
        NaiveForecaster(horizon=3).fit(missing)


def test_parts_are_balanced_over_ranks_by_rows() -> None:
    owner = assign(np.array([5, 50, 20, 20, 10]), 2)
    loads = np.bincount(owner, weights=[5, 50, 20, 20, 10])
    assert loads.tolist() == [55.0, 50.0]
    assert assign(np.array([3, 1]), 4).tolist() == [0, 1]  # more ranks than parts: some idle


def test_the_command_line_fits_a_folder_of_parts_rank_by_rank(tmp_path, capsys) -> None:
    df = _panel()
    _write(df, tmp_path / "parts", GROUPS)
    out = tmp_path / "m.safetensors"
    expected = RNNForecaster(**{**PARAMS, "max_epochs": 1}).fit(df).predict()
    # One DDP process (a process group of one, gloo): the path several ranks take, cheaply.
    kwargs = '{"devices": 1, "strategy": "ddp", "accelerator": "cpu"}'
    code, _, err = run_main(
        capsys, "fit", "--estimator", "rnn", "--data", tmp_path / "parts", "--out", out,
        "--seq-len", 8, "--horizon", 3, "--hidden-size", 6, "--max-epochs", 1,
        "--batch-size", 16, "--validation-size", 0, "--random-state", 0,
        "--trainer-kwargs", kwargs,
    )  # fmt: skip
    if torch.distributed.is_initialized():  # Lightning's "ddp" leaves its group up; later
        torch.distributed.destroy_process_group()  # fits in this process must not see it
    assert code == 0, err
    assert "rank 0 read 345 rows of 6 series from 3 parts" in err
    np.testing.assert_allclose(forecast.load(out).predict()["y"], expected["y"], atol=1e-5)
