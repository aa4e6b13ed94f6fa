"""RNNForecaster, LSTMForecaster, GRUForecaster: what a user relies on after ``fit``."""

from __future__ import annotations

import pickle
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

from forecast import GRUForecaster, LSTMForecaster, RNNForecaster
from tests.conftest import FAST

ESTIMATORS = [RNNForecaster, LSTMForecaster, GRUForecaster]


def _sine(n: int) -> pd.DataFrame:
    t = np.arange(n)
    index = pd.date_range("2020-01-01", periods=n, freq="D", name="date")
    return pd.DataFrame({"y": np.sin(2 * np.pi * t / 20)}, index=index)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_each_cell_learns_a_noiseless_sine(cell: str) -> None:
    # A period-20 sine is a deterministic function of its last 20 values, so a recurrent net
    # with 32 units should forecast it almost exactly. The threshold, 0.05 (5% of the
    # amplitude), is ~13x below the naive last-value error here (0.64) and ~4x above what
    # each cell reaches in 20 epochs (about 0.005-0.012), so it fails on a broken model,
    # scaler or head, not on seed noise.
    df = _sine(400)
    train, test = df.iloc[:-5], df.iloc[-5:]
    model = RNNForecaster(
        cell=cell,
        seq_len=20,
        horizon=5,
        hidden_size=32,
        max_epochs=20,
        batch_size=32,
        learning_rate=1e-2,
        progress_bar=False,
        random_state=0,
    ).fit(train)
    forecast = model.predict()
    pd.testing.assert_index_equal(forecast.index, test.index)
    assert list(forecast.columns) == ["y"]
    naive_error = np.abs(train["y"].iloc[-1] - test["y"].to_numpy()).max()
    error = np.abs(forecast["y"].to_numpy() - test["y"].to_numpy()).max()
    assert error < 0.05
    assert error < naive_error / 10


def test_predict_returns_the_next_horizon_steps_in_original_units(sine_frame) -> None:
    shifted = sine_frame.assign(y=sine_frame["y"] * 100 + 5000)
    model = LSTMForecaster(seq_len=10, horizon=4, target="y", **FAST).fit(shifted)
    forecast = model.predict()
    expected = pd.date_range("2020-07-19", periods=4, freq="D", name="date")
    pd.testing.assert_index_equal(forecast.index, expected)
    assert list(forecast.columns) == ["y"]
    # In original units: near the series' level, not near 0 as scaled values would be.
    assert forecast["y"].between(4700, 5300).all()


def test_predict_horizon_k_is_the_first_k_steps(sine_frame) -> None:
    model = GRUForecaster(seq_len=10, horizon=4, target="y", **FAST).fit(sine_frame)
    full = model.predict()
    pd.testing.assert_frame_equal(model.predict(horizon=2), full.iloc[:2])
    with pytest.raises(ValueError, match=r"'horizon' parameter.*<= 4"):
        model.predict(horizon=5)


def test_predict_from_a_newer_history_without_refit(sine_frame) -> None:
    model = RNNForecaster(seq_len=10, horizon=3, target="y", **FAST).fit(sine_frame.iloc[:150])
    weights = {k: v.clone() for k, v in model.network_.state_dict().items()}
    # The training history itself gives the same forecast as predict().
    pd.testing.assert_frame_equal(model.predict(sine_frame.iloc[:150]), model.predict())
    newer = model.predict(sine_frame)
    assert newer.index[0] == sine_frame.index[-1] + pd.Timedelta(days=1)
    # Only the last seq_len rows matter.
    pd.testing.assert_frame_equal(model.predict(sine_frame.iloc[-10:]), newer)
    for name, tensor in model.network_.state_dict().items():
        assert tensor.equal(weights[name])


def test_several_targets_and_past_covariates(sine_frame) -> None:
    frame = sine_frame.assign(z=np.arange(len(sine_frame), dtype=float))
    model = RNNForecaster(seq_len=8, horizon=2, target=["y", "z"], **FAST).fit(frame)
    assert model.target_names_ == ["y", "z"]
    assert model.covariate_names_ == ["x"]
    assert list(model.feature_names_in_) == ["y", "z", "x"]
    assert list(model.predict().columns) == ["y", "z"]
    # target=None forecasts every numeric column.
    every = RNNForecaster(seq_len=8, horizon=2, **FAST).fit(frame)
    assert list(every.predict().columns) == ["y", "x", "z"]


def test_past_covariates_enter_the_input_window(sine_frame) -> None:
    model = RNNForecaster(seq_len=10, horizon=3, target="y", **FAST).fit(sine_frame)
    assert model.network_.config.input_size == 2
    changed = sine_frame.copy()
    changed.iloc[-5:, changed.columns.get_loc("x")] += 3.0
    before, after = model.predict(sine_frame), model.predict(changed)
    assert not np.allclose(before.to_numpy(), after.to_numpy())


def test_history_records_train_and_validation_loss_per_epoch(sine_frame) -> None:
    model = RNNForecaster(seq_len=10, horizon=3, target="y", **{**FAST, "max_epochs": 3})
    model.fit(sine_frame)
    history = model.history_
    assert list(history.columns) == ["epoch", "train_loss", "val_loss"]
    assert history["epoch"].tolist() == [0, 1, 2]
    assert np.isfinite(history[["train_loss", "val_loss"]].to_numpy()).all()
    assert model.best_epoch_ == int(history["val_loss"].idxmin())
    no_val = RNNForecaster(seq_len=10, horizon=3, validation_size=0, **FAST).fit(sine_frame)
    assert no_val.history_["val_loss"].isna().all()
    assert no_val.best_epoch_ is None


def test_history_of_an_epoch_cut_short_has_no_validation_loss(sine_frame) -> None:
    # ~150 training windows in batches of 32: 5 steps an epoch, so max_steps=7 stops the
    # second epoch after 2 steps, before its validation. Its row keeps the training loss of
    # those 2 steps and no validation loss (not the first epoch's, still in Lightning's metrics).
    params = {**FAST, "max_epochs": 3, "trainer_kwargs": {"max_steps": 7}}
    model = RNNForecaster(seq_len=10, horizon=3, target="y", **params).fit(sine_frame)
    history = model.history_
    assert history["epoch"].tolist() == [0, 1]
    assert np.isfinite(history["train_loss"]).all()
    assert np.isfinite(history.loc[0, "val_loss"])
    assert np.isnan(history.loc[1, "val_loss"])
    assert model.best_epoch_ == 0


def test_early_stopping_keeps_the_best_epoch(sine_frame) -> None:
    model = RNNForecaster(
        seq_len=10,
        horizon=3,
        target="y",
        early_stopping_patience=1,
        learning_rate=0.5,  # far too large: validation loss goes up and training stops
        **{**FAST, "max_epochs": 30},
    ).fit(sine_frame)
    assert len(model.history_) < 30
    assert model.best_epoch_ == int(model.history_["val_loss"].idxmin())


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_scikit_learn_data_free_checks(estimator) -> None:
    name = estimator.__name__
    check_no_attributes_set_in_init(name, estimator())
    check_parameters_default_constructible(name, estimator())
    check_get_params_invariance(name, estimator())
    check_set_params(name, estimator())


def test_lstm_and_gru_are_rnn_forecaster_with_another_cell() -> None:
    assert LSTMForecaster().get_params()["cell"] == "lstm"
    assert GRUForecaster().get_params()["cell"] == "gru"
    assert isinstance(LSTMForecaster(), RNNForecaster)
    assert set(LSTMForecaster().get_params()) == set(RNNForecaster().get_params())


def test_params_round_trip_and_clone_is_unfitted(sine_frame) -> None:
    model = LSTMForecaster(seq_len=7, horizon=2, trainer_kwargs={"accelerator": "cpu"}, **FAST)
    params = model.get_params()
    assert params["seq_len"] == 7
    assert params["trainer_kwargs"] == {"accelerator": "cpu"}
    other = RNNForecaster().set_params(**params)
    assert other.get_params() == params
    model.fit(sine_frame)
    copy = clone(model)
    assert copy.get_params() == params
    assert not hasattr(copy, "network_")
    with pytest.raises(NotFittedError):
        copy.predict()


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_predict_before_fit_raises_not_fitted(estimator) -> None:
    with pytest.raises(NotFittedError, match="not fitted"):
        estimator().predict()


def test_fitted_attributes_end_in_underscore_and_are_set_by_fit_only(sine_frame) -> None:
    model = RNNForecaster(seq_len=10, horizon=3, **FAST)
    before = set(vars(model))
    model.fit(sine_frame)
    added = set(vars(model)) - before
    assert added
    assert all(name.endswith("_") for name in added)


def test_pickled_model_predicts_the_same(sine_frame) -> None:
    model = GRUForecaster(seq_len=10, horizon=3, **FAST).fit(sine_frame)
    copy = pickle.loads(pickle.dumps(model))
    pd.testing.assert_frame_equal(copy.predict(), model.predict(), check_exact=True)
    pd.testing.assert_frame_equal(copy.predict(sine_frame), model.predict(sine_frame))


def test_same_random_state_gives_bitwise_identical_forecasts(sine_frame) -> None:
    params = {**FAST, "random_state": 123, "dropout": 0.2, "num_layers": 2}
    first = LSTMForecaster(seq_len=10, horizon=3, **params).fit(sine_frame).predict()
    second = LSTMForecaster(seq_len=10, horizon=3, **params).fit(sine_frame).predict()
    pd.testing.assert_frame_equal(first, second, check_exact=True)
    other = LSTMForecaster(seq_len=10, horizon=3, **{**params, "random_state": 124})
    assert not other.fit(sine_frame).predict().equals(first)


_FRESH_PROCESS = """
import numpy as np, pandas as pd, torch
torch.set_num_threads(2)
from forecast import GRUForecaster
t = np.arange(200)
df = pd.DataFrame({"y": np.sin(2 * np.pi * t / 20)},
                  index=pd.date_range("2020-01-01", periods=200, freq="D"))
model = GRUForecaster(seq_len=10, horizon=3, hidden_size=8, max_epochs=2, batch_size=32,
                      progress_bar=False, random_state=7).fit(df)
print(model.predict()["y"].to_numpy().tobytes().hex())
"""


def test_determinism_holds_in_a_fresh_process() -> None:
    runs = [
        subprocess.run(
            [sys.executable, "-c", _FRESH_PROCESS], capture_output=True, text=True, check=True
        ).stdout.strip()
        for _ in range(2)
    ]
    t = np.arange(200)
    df = pd.DataFrame(
        {"y": np.sin(2 * np.pi * t / 20)},
        index=pd.date_range("2020-01-01", periods=200, freq="D"),
    )
    here = GRUForecaster(
        seq_len=10,
        horizon=3,
        hidden_size=8,
        max_epochs=2,
        batch_size=32,
        progress_bar=False,
        random_state=7,
    ).fit(df)
    assert runs[0] == runs[1]
    assert runs[0] == here.predict()["y"].to_numpy().tobytes().hex()


def test_fit_does_not_change_global_random_state(sine_frame) -> None:
    # The legacy global NumPy state is what seeding (Lightning's seed_everything) touches,
    # so that is the state a user's own code could see changed.
    np.random.seed(5)  # noqa: NPY002
    torch.manual_seed(5)
    expected_np, expected_torch = np.random.rand(), torch.rand(1)  # noqa: NPY002
    np.random.seed(5)  # noqa: NPY002
    torch.manual_seed(5)
    RNNForecaster(seq_len=10, horizon=2, **FAST).fit(sine_frame)
    assert np.random.rand() == expected_np  # noqa: NPY002
    assert torch.rand(1).equal(expected_torch)


def test_fit_leaves_no_logging_directory_in_the_working_folder(
    sine_frame, tmp_path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    RNNForecaster(seq_len=10, horizon=2, **FAST).fit(sine_frame)
    assert list(tmp_path.iterdir()) == []


def test_trainer_kwargs_reach_the_lightning_trainer(sine_frame) -> None:
    import lightning as L

    class CountEpochs(L.Callback):
        epochs = 0

        def on_train_epoch_end(self, trainer, pl_module) -> None:
            CountEpochs.epochs += 1

    RNNForecaster(
        seq_len=10,
        horizon=2,
        trainer_kwargs={"callbacks": [CountEpochs()], "max_epochs": 3, "accelerator": "cpu"},
        **FAST,
    ).fit(sine_frame)
    assert CountEpochs.epochs == 3


def test_a_single_callback_is_taken_as_lightning_takes_it(sine_frame) -> None:
    """trainer_kwargs={"callbacks": C()} (no list), which Lightning accepts, raised
    TypeError: 'C' object is not iterable."""
    import lightning as L

    class CountEpochs(L.Callback):
        epochs = 0

        def on_train_epoch_end(self, trainer, pl_module) -> None:
            CountEpochs.epochs += 1

    kwargs = {"callbacks": CountEpochs(), "max_epochs": 2, "accelerator": "cpu"}
    RNNForecaster(seq_len=10, horizon=2, trainer_kwargs=kwargs, **FAST).fit(sine_frame)
    assert CountEpochs.epochs == 2


def test_a_users_logger_gets_the_estimators_parameters_beside_the_networks(
    sine_frame, tmp_path
) -> None:
    import yaml
    from lightning.pytorch.loggers import CSVLogger

    csv = CSVLogger(tmp_path, name="run")
    params = {**FAST, "max_epochs": 1, "seq_len": 10, "horizon": 2, "scaler": "window_level"}
    model = LSTMForecaster(freq="D", trainer_kwargs={"logger": csv}, **params).fit(sine_frame)
    logged = yaml.safe_load((tmp_path / "run" / "version_0" / "hparams.yaml").read_text())
    estimator = logged["estimator"]
    assert estimator["class"] == "LSTMForecaster"
    for name in ("seq_len", "horizon", "batch_size", "scaler", "hidden_size", "freq"):
        assert estimator[name] == model.get_params()[name]
    # The user's own logger object is named by its class, not by an address.
    assert estimator["trainer_kwargs"] == {"logger": "lightning.pytorch.loggers.csv_logs.CSVLogger"}
    assert logged["hidden_size"] == 8  # the network's settings, which Lightning logs, stay
    assert "metrics.csv" in {p.name for p in (tmp_path / "run" / "version_0").iterdir()}


def test_long_frame_forecasts_every_series_on_its_own_dates(long_frame) -> None:
    model = LSTMForecaster(
        seq_len=12, horizon=3, id_col="unique_id", time_col="ds", target="y", **FAST
    ).fit(long_frame)
    forecast = model.predict()
    assert list(forecast.columns) == ["unique_id", "ds", "y"]
    for sid, group in forecast.groupby("unique_id"):
        last = long_frame.loc[long_frame["unique_id"] == sid, "ds"].max()
        expected = pd.date_range(last, periods=4, freq="MS")[1:]
        assert list(group["ds"]) == list(expected)


def test_multiindex_input_gives_multiindex_output(long_frame) -> None:
    indexed = long_frame.set_index(["unique_id", "ds"])
    model = GRUForecaster(seq_len=12, horizon=2, **FAST).fit(indexed)
    forecast = model.predict()
    assert forecast.index.names == ["unique_id", "ds"]
    assert len(forecast) == 3 * 2
    pd.testing.assert_frame_equal(model.predict(indexed), forecast)


def test_cosine_lr_schedule_reaches_the_optimiser(sine_frame) -> None:
    import lightning as L

    rates: list[float] = []

    class Rates(L.Callback):
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
            rates.append(trainer.optimizers[0].param_groups[0]["lr"])

    params = {**FAST, "max_epochs": 2, "learning_rate": 0.01, "validation_size": 0}
    RNNForecaster(
        seq_len=10,
        horizon=3,
        target="y",
        lr_schedule="cosine",
        trainer_kwargs={"callbacks": [Rates()]},
        **params,
    ).fit(sine_frame)
    assert rates[0] == pytest.approx(0.01)
    assert all(np.diff(rates) < 0)  # decays every step
    assert rates[-1] < 0.01 * 0.05


@pytest.mark.parametrize(
    "numpy_params",
    [
        {"hidden_size": np.int64(4)},
        {"num_layers": np.int64(2), "dropout": np.float64(0.1)},
        {"max_epochs": np.int64(2)},
        {"batch_size": np.int64(16)},
        {"horizon": np.int64(3)},
        {"seq_len": np.int64(7)},
        {"learning_rate": np.logspace(-3, -2, 2)[1]},
        {"weight_decay": np.float64(1e-4)},
        {"early_stopping_patience": np.int64(1), "gradient_clip_val": np.float32(1.0)},
        {"trainer_kwargs": {"max_steps": np.int64(100)}},
    ],
    ids=lambda p: "-".join(p),
)
def test_numpy_scalar_parameters_fit_as_their_python_values(sine_frame, numpy_params) -> None:
    """A grid search over np.arange / np.logspace gives NumPy scalars: they failed in
    nn.LSTM, Lightning or the DataLoader, or (with validation, the default) only after all
    the training, reading the best epoch's checkpoint back. Now they fit as the Python
    numbers they hold, and get_params still returns them as set (for clone)."""
    base = {"seq_len": 6, "horizon": 2, "hidden_size": 4, "max_epochs": 1, "batch_size": 32,
            "progress_bar": False, "random_state": 0}  # fmt: skip
    python = {
        k: ({kk: vv.item() for kk, vv in v.items()} if isinstance(v, dict) else v.item())
        for k, v in numpy_params.items()
    }
    frame = sine_frame[["y"]]
    model = LSTMForecaster(**{**base, **numpy_params}).fit(frame)
    expected = LSTMForecaster(**{**base, **python}).fit(frame).predict()
    pd.testing.assert_frame_equal(model.predict(), expected)
    assert model.best_epoch_ is not None  # validated, the best epoch read back
    for name, value in numpy_params.items():
        assert model.get_params()[name] is value


def test_enable_checkpointing_false_with_validation_is_refused_saying_why(sine_frame) -> None:
    """It failed naming a ModelCheckpoint in the callbacks list that the user never added."""
    from forecast import InvalidParameterError

    kwargs = {"enable_checkpointing": False}
    model = RNNForecaster(seq_len=10, horizon=2, trainer_kwargs=kwargs, **FAST)
    with pytest.raises(InvalidParameterError, match=r"best epoch's weights .* validation_size=0"):
        model.fit(sine_frame)
    model.set_params(validation_size=0).fit(sine_frame)  # no validation: taken
