"""Saved models: bitwise round trips, every way a file can be bad, atomic writes, model cards."""

from __future__ import annotations

import copy
import json
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import FAST, make_long_frame
from lightning.pytorch.callbacks import Callback
from safetensors.numpy import save_file
from sklearn.dummy import DummyRegressor
from sklearn.exceptions import NotFittedError

import forecast
from forecast import (
    EnsembleForecaster,
    GRUForecaster,
    LSTMForecaster,
    ModelCard,
    ModelFileError,
    NaiveForecaster,
    RNNForecaster,
    load,
    save,
)
from forecast.forecasters import builtin
from forecast.io import model_file as _model_file
from forecast.io import persistence, registry
from forecast.io.codecs import (
    NotEncodable,
    decode_ids,
    decode_offset,
    decode_times,
    decode_value,
    encode_ids,
    encode_offset,
    encode_times,
    encode_value,
)

# Holidays that fall inside the fitted span and inside the forecast horizon.
CDAY = pd.offsets.CustomBusinessDay(
    holidays=["2021-01-18", "2021-02-15", "2021-05-31"], weekmask="Mon Tue Wed Thu Fri"
)


def _business_frame(freq: pd.offsets.BaseOffset) -> pd.DataFrame:
    index = pd.date_range("2021-01-04", "2021-05-28", freq=freq, name="day")  # to a Friday
    t = np.arange(len(index))
    return pd.DataFrame({"price": 100 + np.sin(t / 5) + 0.01 * t}, index=index)


def _assert_same_fit(a: RNNForecaster, b: RNNForecaster) -> None:
    assert type(a) is type(b)
    assert a.get_params() == b.get_params()
    assert a.freq_ == b.freq_
    assert a.layout_ == b.layout_
    assert a.target_names_ == b.target_names_
    assert a.covariate_names_ == b.covariate_names_
    np.testing.assert_array_equal(a.feature_names_in_, b.feature_names_in_)
    assert a.n_features_in_ == b.n_features_in_
    assert a.series_ids_ == b.series_ids_
    assert [type(i) for i in a.series_ids_] == [type(i) for i in b.series_ids_]
    pd.testing.assert_index_equal(a.cutoffs_, b.cutoffs_, exact=True)
    pd.testing.assert_index_equal(a.training_start_, b.training_start_, exact=True)
    pd.testing.assert_frame_equal(a.history_, b.history_, check_exact=True)
    assert (a.best_epoch_, a.seed_) == (b.best_epoch_, b.seed_)
    assert np.array_equal(a.last_window_, b.last_window_)


@pytest.fixture(scope="module")
def wide_model() -> tuple[LSTMForecaster, pd.DataFrame]:
    t = np.arange(120)
    index = pd.date_range("2020-01-01", periods=120, freq="D", name="date")
    df = pd.DataFrame({"y": np.sin(t / 4), "x": np.cos(t / 4)}, index=index)
    return LSTMForecaster(seq_len=8, horizon=3, target="y", **FAST).fit(df), df


@pytest.fixture
def model_path(tmp_path, wide_model):
    path = tmp_path / "model.safetensors"
    wide_model[0].save(path)
    return path


# ---------------------------------------------------------------------------- round trips


def test_wide_round_trip_is_bitwise(wide_model, model_path):
    model, df = wide_model
    loaded = forecast.load(model_path)
    _assert_same_fit(model, loaded)
    pd.testing.assert_frame_equal(model.predict(), loaded.predict(), check_exact=True)
    pd.testing.assert_frame_equal(model.predict(df), loaded.predict(df), check_exact=True)
    for name, tensor in model.network_.state_dict().items():
        assert torch.equal(tensor, loaded.network_.state_dict()[name])


def test_long_round_trip_is_bitwise(tmp_path, long_frame):
    model = GRUForecaster(
        seq_len=6, horizon=2, id_col="unique_id", time_col="ds", scaler="minmax", **FAST
    ).fit(long_frame)
    model.save(tmp_path / "long.safetensors")
    loaded = RNNForecaster.load(tmp_path / "long.safetensors")
    assert isinstance(loaded, GRUForecaster)
    _assert_same_fit(model, loaded)
    assert str(loaded.freq_) == "<MonthBegin>"
    pd.testing.assert_frame_equal(model.predict(), loaded.predict(), check_exact=True)
    recent = long_frame.groupby("unique_id").tail(10)
    pd.testing.assert_frame_equal(model.predict(recent), loaded.predict(recent), check_exact=True)


def test_covariates_and_multiindex_round_trip(tmp_path, long_frame):
    rng = np.random.default_rng(1)
    frame = long_frame.assign(
        promo=rng.integers(0, 2, len(long_frame)).astype(float),
        size=long_frame["unique_id"].map({"a": 1.0, "b": 2.0, "c": 5.0}),
    ).set_index(["unique_id", "ds"])
    model = LSTMForecaster(
        seq_len=6, horizon=2, future_covariates="promo", static_covariates="size", **FAST
    ).fit(frame)
    model.save(tmp_path / "cov.safetensors")
    loaded = forecast.load(tmp_path / "cov.safetensors")
    _assert_same_fit(model, loaded)
    assert loaded.future_names_ == ["promo"]
    assert loaded.static_names_ == ["size"]
    np.testing.assert_array_equal(loaded.static_, model.static_)
    future = pd.DataFrame(
        [
            (sid, day)
            for sid, cutoff in zip(model.series_ids_, model.cutoffs_, strict=True)
            for day in pd.date_range(cutoff, periods=3, freq="MS")[1:]
        ],
        columns=["unique_id", "ds"],
    ).assign(promo=1.0)
    expected = model.predict(future_covariates=future)
    assert expected.index.names == ["unique_id", "ds"]
    pd.testing.assert_frame_equal(
        loaded.predict(future_covariates=future), expected, check_exact=True
    )


def test_integer_series_ids_keep_their_type(tmp_path, long_frame):
    df = long_frame.assign(unique_id=long_frame["unique_id"].map({"a": 7, "b": 3, "c": 11}))
    model = RNNForecaster(seq_len=6, horizon=2, id_col="unique_id", time_col="ds", **FAST)
    model.fit(df).save(tmp_path / "ids.safetensors")
    loaded = load(tmp_path / "ids.safetensors")
    assert loaded.series_ids_ == [3, 7, 11]  # sorted ids, as numbers
    assert [type(i) for i in loaded.series_ids_] == [type(i) for i in model.series_ids_]
    pd.testing.assert_frame_equal(model.predict(), loaded.predict(), check_exact=True)


@pytest.mark.parametrize("freq", ["B", CDAY], ids=["B", "CustomBusinessDay"])
def test_business_day_round_trip(tmp_path, freq):
    offset = pd.tseries.frequencies.to_offset(freq)
    df = _business_frame(offset)
    model = RNNForecaster(seq_len=10, horizon=5, freq=freq, **FAST).fit(df)
    save(model, tmp_path / "b.safetensors")
    loaded = load(tmp_path / "b.safetensors")
    assert loaded.freq_ == offset
    assert loaded.get_params()["freq"] == freq
    expected = model.predict()
    pd.testing.assert_frame_equal(expected, loaded.predict(), check_exact=True)
    first = pd.Timestamp("2021-06-01" if freq is CDAY else "2021-05-31")  # a holiday Monday
    assert expected.index[0] == first


def test_load_leaves_the_callers_random_streams_alone(model_path):
    before = torch.get_rng_state()
    load(model_path)
    assert torch.equal(before, torch.get_rng_state())


def test_public_names():
    assert forecast.save is builtin.save
    assert forecast.load is builtin.load
    assert {"save", "load", "ModelCard"} <= set(forecast.__all__)


# ---------------------------------------------------------------------------- what is saved


def test_file_layout(wide_model, model_path):
    document, arrays = persistence.read(model_path)
    assert document["format"] == "forecast.model"
    assert document["format_version"] == persistence.FORMAT_VERSION
    assert document["estimator"] == "LSTMForecaster"
    assert document["params"]["seq_len"] == 8
    assert document["fitted"]["freq"] == "D"
    assert {"model.scaler.loc", "model.scaler.scale", "model.last_window"} <= set(arrays)
    assert "model.network.encoder.weight_ih_l0" in arrays
    assert "history.train_loss" in arrays
    assert document["model"]["network"]["cell"] == "lstm"


def test_none_attributes_stay_none(tmp_path, wide_model):
    model = copy.deepcopy(wide_model[0])
    model.best_epoch_ = None  # as after a fit without validation
    model.save(tmp_path / "m.safetensors")
    assert load(tmp_path / "m.safetensors").best_epoch_ is None


def test_non_json_params_are_dropped_with_a_warning(tmp_path, wide_model):
    model = wide_model[0]
    original = model.get_params()
    try:
        model.set_params(
            trainer_kwargs={"callbacks": [Callback()], "accelerator": "cpu"},
            random_state=np.random.RandomState(0),
        )
        with pytest.warns(UserWarning, match=r"random_state, trainer_kwargs\['callbacks'\]"):
            model.save(tmp_path / "m.safetensors")
        expected = model.predict()
    finally:
        model.set_params(**original)
    loaded = load(tmp_path / "m.safetensors")
    assert loaded.trainer_kwargs == {"accelerator": "cpu"}
    assert loaded.random_state is None
    pd.testing.assert_frame_equal(expected, loaded.predict(), check_exact=True)
    card = ModelCard.from_document(*persistence.read(tmp_path / "m.safetensors"))
    assert card.dropped_params == ["random_state", "trainer_kwargs['callbacks']"]
    assert "not saved:   random_state, trainer_kwargs['callbacks'] (defaults" in str(card)


def test_reserved_tag_keys_in_a_dict_param_are_dropped_not_misread(tmp_path, wide_model):
    # A dict whose only key is "__estimator__" would decode as a nested estimator on load
    # (and one of only "__offset__" as a frequency): the key is left out, with the warning.
    model = wide_model[0]
    original = model.get_params()
    nested = {"estimator": "RNNForecaster", "params": {}}
    try:
        model.set_params(trainer_kwargs={"__estimator__": nested})
        with pytest.warns(UserWarning, match=r"trainer_kwargs\['__estimator__'\]"):
            model.save(tmp_path / "m.safetensors")
    finally:
        model.set_params(**original)
    assert load(tmp_path / "m.safetensors").trainer_kwargs == {}
    with pytest.raises(NotEncodable, match=r"p uses the reserved key\(s\) \['__tuple__'\]"):
        encode_value({"__tuple__": [1]}, "p")


def test_saving_needs_a_fitted_forecaster(tmp_path):
    with pytest.raises(NotFittedError):
        RNNForecaster().save(tmp_path / "x.safetensors")
    with pytest.raises(ModelFileError, match="Cannot save a DummyRegressor: only forecasters"):
        save(DummyRegressor(), tmp_path / "x.safetensors")
    assert not (tmp_path / "x.safetensors").exists()


def test_a_subclass_of_ours_saves_and_loads_where_its_class_is_defined(tmp_path, sine_frame):
    class MyForecaster(NaiveForecaster):
        pass

    model = MyForecaster(horizon=2).fit(sine_frame)
    model.save(tmp_path / "mine.safetensors")
    document, _ = persistence.read(tmp_path / "mine.safetensors")
    assert document["estimator"] == f"{__name__}:{MyForecaster.__qualname__}"
    loaded = load(tmp_path / "mine.safetensors")
    assert type(loaded) is MyForecaster
    pd.testing.assert_frame_equal(loaded.predict(), model.predict(), check_exact=True)
    document["estimator"] = f"{__name__}:NotDefinedHere"
    _model_file.write(tmp_path / "other.safetensors", document, _)
    _one_line_error(
        tmp_path / "other.safetensors",
        r"holds a 'test_persistence:NotDefinedHere', which is not an estimator forecast can load",
    )


def test_loading_through_the_wrong_class_is_refused(model_path):
    with pytest.raises(ModelFileError, match="holds a LSTMForecaster, not a GRUForecaster"):
        GRUForecaster.load(model_path)


# ---------------------------------------------------------------------------- bad files


def _one_line_error(path, match):
    with pytest.raises(ModelFileError, match=match) as info:
        load(path)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, ValueError)


def test_missing_file(tmp_path):
    _one_line_error(tmp_path / "nope.safetensors", "no such file")


def test_newer_format_version(tmp_path, model_path):
    _document, arrays = persistence.read(model_path)
    newer = persistence.FORMAT_VERSION + 1
    metadata = {"format": "forecast.model", "format_version": str(newer), "forecast": "{}"}
    save_file(arrays, tmp_path / "new.safetensors", metadata=metadata)
    _one_line_error(
        tmp_path / "new.safetensors",
        rf"newer forecast \(format version {newer}; .* up to {newer - 1}",
    )


def test_truncated_file(tmp_path, model_path):
    raw = model_path.read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(raw[: len(raw) - 100])
    _one_line_error(tmp_path / "cut.safetensors", r"truncated \(\d+ bytes of \d+\)")
    (tmp_path / "cut2.safetensors").write_bytes(raw[:50])
    _one_line_error(tmp_path / "cut2.safetensors", "truncated")


def test_bit_flip_is_caught_by_the_checksum(tmp_path, model_path):
    raw = bytearray(model_path.read_bytes())
    raw[-3] ^= 0x10  # inside the last tensor's bytes
    (tmp_path / "flip.safetensors").write_bytes(bytes(raw))
    _one_line_error(tmp_path / "flip.safetensors", "checksum mismatch: the file is damaged")


def test_every_bit_flip_is_refused(tmp_path, model_path):
    raw = model_path.read_bytes()
    rng = np.random.default_rng(0)
    flipped = tmp_path / "flipped.safetensors"
    for position in rng.choice(len(raw), size=200, replace=False):
        damaged = bytearray(raw)
        damaged[position] ^= 1 << int(rng.integers(8))
        flipped.write_bytes(bytes(damaged))
        with pytest.raises(ModelFileError, match=r"Cannot load model file '.*flipped"):
            persistence.read(flipped)


def test_not_a_safetensors_file(tmp_path):
    (tmp_path / "notes.safetensors").write_text("date,close\n2020-01-01,3\n" * 10)
    _one_line_error(tmp_path / "notes.safetensors", "not a safetensors file")


def test_a_safetensors_file_that_is_not_ours(tmp_path):
    save_file({"weight": np.zeros(3, np.float32)}, tmp_path / "other.safetensors")
    _one_line_error(tmp_path / "other.safetensors", "safetensors file, but not a forecast model")


def test_an_estimator_name_outside_the_allowlist(tmp_path, model_path):
    document, arrays = persistence.read(model_path)
    document["estimator"] = "os.system"
    _model_file.write(tmp_path / "evil.safetensors", document, arrays)
    _one_line_error(tmp_path / "evil.safetensors", "'os.system', which is not an estimator")


class _Exploit:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))  # unpickling this would create the marker file


def test_a_malicious_pickle_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "model.safetensors"
    path.write_bytes(pickle.dumps(_Exploit(str(marker))))
    _one_line_error(path, "Python pickle, not a forecast model; forecast never loads pickles")
    assert not marker.exists()
    (tmp_path / "torch.pt").write_bytes(b"PK\x03\x04" + b"\0" * 60)  # torch.save's zip
    _one_line_error(tmp_path / "torch.pt", "zip archive")


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (b"", r"too short to be a model file \(0 bytes\)"),
        (b"\x80\x04", "Python pickle"),
        (b"PK\x03\x04", "zip archive"),
        (b"\x00" * 8, "not a safetensors file"),
        # a header of 640 bytes (starts like a pickle) whose file ends inside it
        ((640).to_bytes(8, "little") + b'{"a": 1}', "truncated"),
    ],
)
def test_short_and_foreign_files_are_named(tmp_path, raw, says):
    (tmp_path / "m.safetensors").write_bytes(raw)
    _one_line_error(tmp_path / "m.safetensors", says)


@pytest.mark.parametrize("mark", [2, 3, 4, 5])
def test_a_header_whose_length_starts_like_a_pickle_loads(tmp_path, sine_frame, mark):
    # A header of 640, 896, 1152 or 1408 bytes (plus any multiple of 65536) starts the file
    # with 0x80 and 2..5, a pickle's protocol mark; such a model file is still ours (an
    # OptimisedThetaForecaster's was one).
    model = forecast.NaiveForecaster().fit(sine_frame)
    save(model, tmp_path / "m.safetensors")
    raw = (tmp_path / "m.safetensors").read_bytes()
    length = int.from_bytes(raw[:8], "little")
    size = (mark << 8) | 0x80
    size += 65536 * max(0, -(-(length - size) // 65536))  # the first such size >= length
    # The format pads its header with spaces; the tensors' offsets count from its end.
    padded = size.to_bytes(8, "little") + raw[8 : 8 + length] + b" " * (size - length)
    (tmp_path / "p.safetensors").write_bytes(padded + raw[8 + length :])
    assert padded[:2] == bytes([0x80, mark])
    loaded = load(tmp_path / "p.safetensors")
    pd.testing.assert_frame_equal(loaded.predict(), model.predict(), check_exact=True)


# ---------------------------------------------------------------------------- atomic writes


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, model_path, monkeypatch):
    good = model_path.read_bytes()

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("safetensors.numpy.save", broken)
    with pytest.raises(OSError, match="No space left"):
        load(model_path).save(model_path)
    assert model_path.read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.safetensors"]


def test_a_process_killed_mid_write_leaves_the_old_model(tmp_path, model_path):
    good = model_path.read_bytes()
    script = textwrap.dedent(
        f"""
        import io, os
        import forecast.io.atomic as atomic
        from forecast import load

        model = load({str(model_path)!r})
        real_fdopen = os.fdopen

        def dying_fdopen(fd, *args, **kwargs):
            f = real_fdopen(fd, *args, **kwargs)

            class Dying(io.RawIOBase):
                def write(self, data):
                    f.write(bytes(data)[: len(data) // 2])
                    f.flush()
                    os._exit(1)  # killed half-way through the write

            return Dying()

        atomic.os.fdopen = dying_fdopen
        model.save({str(model_path)!r})
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert proc.returncode == 1, proc.stderr.decode()
    assert model_path.read_bytes() == good
    load(model_path)  # still loads
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "model.safetensors"]
    assert len(leftovers) == 1
    assert leftovers[0].startswith(".model.safetensors.")
    assert 0 < (tmp_path / leftovers[0]).stat().st_size < len(good)


# ---------------------------------------------------------------------------- cards


def test_card_describes_the_model(tmp_path, long_frame):
    model = LSTMForecaster(
        seq_len=6, horizon=2, id_col="unique_id", time_col="ds", target="y", **FAST
    ).fit(long_frame)
    model.backtest_ = {"mae": 0.25, "mape": float("nan"), "windows": 2}
    card = model.card()
    assert isinstance(card, ModelCard)
    assert (card.n_series, card.targets, card.freq) == (3, ["y"], "MS")
    assert (card.start, card.end) == ("1999-03-01T00:00:00", "2005-05-01T00:00:00")
    text = str(card)
    for expected in (
        "LSTMForecaster (forecast ",
        "forecasts:   y (2 steps ahead)",
        "3 series (a, b, c; long frame, id column 'unique_id', time column 'ds')",
        "date span:   1999-03-01 to 2005-05-01",
        "frequency:   MS",
        "backtest:    mae=0.25, mape=None, windows=2",
        "seq_len=6",
    ):
        assert expected in text
    model.save(tmp_path / "m.safetensors")
    loaded = load(tmp_path / "m.safetensors")
    assert loaded.backtest_ == {"mae": 0.25, "mape": None, "windows": 2}
    from_file = ModelCard.from_document(*persistence.read(tmp_path / "m.safetensors"))
    assert from_file == loaded.card()
    assert json.loads(json.dumps(card.to_dict()))["n_series"] == 3


# ---------------------------------------------------------------------------- codecs


@pytest.mark.parametrize(
    "offset",
    [
        "D",
        "B",
        "MS",
        "ME",
        "h",
        "15min",
        "W-SUN",
        "QS-JAN",
        CDAY,
        pd.offsets.CustomBusinessDay(n=2, weekmask="Sun Mon Tue Wed Thu"),
        pd.offsets.CustomBusinessMonthEnd(holidays=["2024-12-31"]),
    ],
)
def test_offsets_round_trip(offset):
    offset = pd.tseries.frequencies.to_offset(offset)
    encoded = json.loads(json.dumps(encode_offset(offset)))
    assert decode_offset(encoded) == offset


def test_an_offset_without_alias_is_refused():
    with pytest.raises(NotEncodable, match="cannot be saved"):
        encode_offset(pd.DateOffset(months=2, days=3))


@pytest.mark.parametrize("tz", [None, "Europe/Paris"])
@pytest.mark.parametrize("unit", ["s", "us", "ns"])
def test_timestamps_round_trip(tz, unit):
    times = pd.DatetimeIndex(
        ["2020-03-29 00:30:00.123456789", "2021-10-31 01:30:00"], name="ds"
    ).as_unit(unit)
    if tz:
        times = times.tz_localize("UTC").tz_convert(tz)
    back = decode_times(json.loads(json.dumps(encode_times(times))))
    pd.testing.assert_index_equal(back, times, exact=True)
    assert back.dtype == times.dtype


def test_ids_and_values_round_trip():
    for ids in ([None], ["a", "b"], [3, 1], [np.int32(3), np.int32(1)]):
        back = decode_ids(json.loads(json.dumps(encode_ids(ids))))
        assert back == ids
        assert [type(i) for i in back] == [type(i) for i in ids]
    with pytest.raises(NotEncodable, match="series ids of type float, str"):
        encode_ids(["a", 1.5])
    value = {"target": ("a", "b"), "freq": CDAY, "n": np.int64(3), "x": [1.5, None, True]}
    back = decode_value(json.loads(json.dumps(encode_value(value))))
    assert back == {"target": ("a", "b"), "freq": CDAY, "n": 3, "x": [1.5, None, True]}
    with pytest.raises(NotEncodable, match=r"p\['x'\] = inf is not a finite number"):
        encode_value({"x": float("inf")}, "p")


# ---------------------------------------------------------------------------- baselines


@pytest.mark.parametrize(
    "name",
    [
        "NaiveForecaster",
        "SeasonalNaiveForecaster",
        "DriftForecaster",
        "ThetaForecaster",
        "OptimisedThetaForecaster",
        "DampedTrendForecaster",
        "ETSForecaster",
    ],
)
def test_baselines_round_trip(tmp_path, sine_frame, name):
    baselines = pytest.importorskip("forecast.baselines")
    cls = getattr(baselines, name, None)
    if cls is None:
        pytest.skip(f"forecast.baselines has no {name}")
    model = cls().fit(sine_frame)
    save(model, tmp_path / "b.safetensors")
    loaded = load(tmp_path / "b.safetensors")
    assert type(loaded) is cls
    assert loaded.get_params() == model.get_params()
    pd.testing.assert_frame_equal(model.predict(), loaded.predict(), check_exact=True)
    pd.testing.assert_frame_equal(
        model.predict(sine_frame), loaded.predict(sine_frame), check_exact=True
    )


def test_a_file_can_name_only_the_classes_this_process_defined():
    builtin_names = {
        "RNNForecaster",
        "LSTMForecaster",
        "GRUForecaster",
        "NaiveForecaster",
        "SeasonalNaiveForecaster",
        "DriftForecaster",
        "ThetaForecaster",
        "OptimisedThetaForecaster",
        "DampedTrendForecaster",
        "ETSForecaster",
        "EnsembleForecaster",
        "CombinedForecaster",
    }
    assert {cls.__name__ for cls in builtin.BUILTIN} == builtin_names
    for name in builtin_names:
        assert registry.resolve(name).__name__ == name
    for name in ("os.system", "os:system", "subprocess:Popen", "BaseForecaster", 3, None):
        with pytest.raises(KeyError):
            registry.resolve(name)  # never imported because a file names it

    class Mine(NaiveForecaster):
        pass

    name = registry.class_name(Mine)
    assert name == f"{__name__}:{Mine.__qualname__}"
    assert registry.resolve(name) is Mine
    assert registry.registered_name(Mine()) == name
    assert registry.registered_name(object()) is None


# ---------------------------------------------------------------------------- quantiles, intervals


@pytest.mark.parametrize("kind", ["quantiles", "conformal_long", "naive_conformal"])
def test_quantile_and_calibration_state_round_trip_bitwise(tmp_path, long_frame, kind):
    from forecast import NaiveForecaster

    long = {"id_col": "unique_id", "time_col": "ds"}
    frame = make_long_frame_with_scales(long_frame)
    model = {
        "quantiles": lambda: LSTMForecaster(
            seq_len=6, horizon=2, quantiles=[0.1, 0.5, 0.9], **long, **FAST
        ),
        "conformal_long": lambda: GRUForecaster(
            seq_len=6,
            horizon=2,
            intervals="conformal",
            coverage=[0.5, 0.8],
            calibration_windows=8,
            **long,
            **FAST,
        ),
        "naive_conformal": lambda: NaiveForecaster(
            horizon=2, intervals="conformal", calibration_windows=12, **long
        ),
    }[kind]().fit(frame)
    model.save(tmp_path / "m.safetensors")
    loaded = load(tmp_path / "m.safetensors")
    assert loaded.get_params() == model.get_params()
    assert loaded.quantile_levels_ == model.quantile_levels_
    if kind != "quantiles":
        assert np.array_equal(loaded.conformal_quantiles_, model.conformal_quantiles_)
        assert np.array_equal(loaded.conformal_scale_, model.conformal_scale_)
        assert loaded.n_calibration_ == model.n_calibration_
    fc = model.predict()
    assert any(str(c).startswith("y_q") for c in fc.columns)
    pd.testing.assert_frame_equal(fc, loaded.predict(), check_exact=True)
    recent = frame.groupby("unique_id").tail(12)
    pd.testing.assert_frame_equal(model.predict(recent), loaded.predict(recent), check_exact=True)


def make_long_frame_with_scales(frame: pd.DataFrame) -> pd.DataFrame:
    """The panel with one series on a 50 times larger scale."""
    frame = frame.copy()
    frame.loc[frame["unique_id"] == "c", "y"] *= 50
    return frame


# ---------------------------------------------------------------------------- ensembles


@pytest.fixture(scope="module")
def ensemble_path(tmp_path_factory):
    """Three quantile GRUs over the panel, saved: (model, frame, path)."""
    frame = make_long_frame()
    base = GRUForecaster(
        seq_len=6, horizon=2, id_col="unique_id", time_col="ds", quantiles=[0.1, 0.9],
        hidden_size=4, max_epochs=1, progress_bar=False, random_state=7,
    )  # fmt: skip
    model = EnsembleForecaster(base, n_members=3, aggregate="mean").fit(frame)
    path = tmp_path_factory.mktemp("ensemble") / "ensemble.safetensors"
    model.save(path)
    return model, frame, path


def test_ensemble_round_trip_is_bitwise(ensemble_path):
    model, frame, path = ensemble_path
    loaded = EnsembleForecaster.load(path)
    assert isinstance(loaded, EnsembleForecaster)
    assert loaded.get_params(deep=False).keys() == model.get_params(deep=False).keys()
    assert (loaded.n_members, loaded.aggregate) == (3, "mean")
    assert type(loaded.estimator) is GRUForecaster
    assert loaded.estimator.get_params() == model.estimator.get_params()
    assert loaded.seeds_ == model.seeds_ == [7, 8, 9]
    for saved, back in zip(model.members_, loaded.members_, strict=True):
        _assert_same_fit(saved, back)
        assert saved.get_params() == back.get_params()
        for name, tensor in saved.network_.state_dict().items():
            assert torch.equal(tensor, back.network_.state_dict()[name])
    assert loaded.target_names_ == model.target_names_
    assert loaded.series_ids_ == model.series_ids_
    pd.testing.assert_index_equal(loaded.cutoffs_, model.cutoffs_, exact=True)
    assert loaded.freq_ == model.freq_
    fc = model.predict()
    assert {"y_q0.1", "y_q0.9"} <= set(fc.columns)
    pd.testing.assert_frame_equal(fc, loaded.predict(), check_exact=True)
    recent = frame.groupby("unique_id").tail(12)
    for kwargs in ({}, {"horizon": 1}):
        pd.testing.assert_frame_equal(
            model.predict(recent, **kwargs), loaded.predict(recent, **kwargs), check_exact=True
        )
    with pytest.raises(ModelFileError, match="holds a EnsembleForecaster, not a GRUForecaster"):
        GRUForecaster.load(path)


def test_ensemble_file_layout(ensemble_path):
    path = ensemble_path[2]
    document, arrays = persistence.read(path)
    assert document["estimator"] == "EnsembleForecaster"
    assert document["format_version"] == persistence.FORMAT_VERSION == 2
    params = document["params"]
    assert (params["n_members"], params["aggregate"]) == (3, "mean")
    base = params["estimator"]["__estimator__"]
    assert base["estimator"] == "GRUForecaster"
    assert base["params"]["random_state"] == 7
    assert document["model"] == {"seeds": [7, 8, 9]}
    assert document["fitted"]["target_names"] == ["y"]  # what `forecast info` shows
    assert [m["estimator"] for m in document["members"]] == ["GRUForecaster"] * 3
    assert [m["params"]["random_state"] for m in document["members"]] == [7, 8, 9]
    assert [m["fitted"]["seed"] for m in document["members"]] == [7, 8, 9]
    assert not any(k.startswith(("model.", "history.")) for k in arrays)  # all in members
    for i in range(3):
        assert f"member.{i}.model.network.encoder.weight_ih_l0" in arrays
        assert f"member.{i}.history.train_loss" in arrays
    assert {k.split(".")[1] for k in arrays} == {"0", "1", "2"}


def test_ensemble_card(ensemble_path):
    model, _, path = ensemble_path
    card = model.card()
    assert card == load(path).card()
    assert card.ensemble["seeds"] == [7, 8, 9]
    assert card.ensemble["n_epochs"] == [1, 1, 1]
    assert (card.estimator, card.n_series, card.seed, card.n_epochs) == (
        "EnsembleForecaster", 3, None, None
    )  # fmt: skip
    assert card.network["cell"] == "gru"
    text = str(ModelCard.from_document(*persistence.read(path), path=path))
    for expected in (
        "EnsembleForecaster (forecast ",
        "members:     3 GRUForecaster (seeds 7, 8, 9), forecasts combined by mean",
        "forecasts:   y (2 steps ahead)",
        "3 series (a, b, c; long frame",
        "training:    1, 1, 1 epochs; best epochs ",
        "estimator=GRUForecaster(batch_size=64,",
    ):
        assert expected in text
    assert json.loads(json.dumps(card.to_dict()))["ensemble"]["n_members"] == 3


def _rewrite(path, target, edit):
    """``path``'s document and arrays, changed by ``edit``, written to ``target`` (checksummed)."""
    document, arrays = persistence.read(path)
    edit(document, arrays)
    _model_file.write(target, document, arrays)
    return target


def test_an_ensemble_base_or_member_outside_the_allowlist(tmp_path, ensemble_path):
    path = ensemble_path[2]

    def base(document, arrays):
        document["params"]["estimator"]["__estimator__"]["estimator"] = "os.system"

    def member(document, arrays):
        document["members"][1]["estimator"] = "subprocess.Popen"

    _one_line_error(
        _rewrite(path, tmp_path / "base.safetensors", base),
        r"'os.system' as the 'estimator' of its EnsembleForecaster, which is not an estimator",
    )
    _one_line_error(
        _rewrite(path, tmp_path / "member.safetensors", member),
        r"'subprocess.Popen' in member 1, which is not an estimator forecast can load",
    )


def test_an_ensemble_whose_members_do_not_match_its_tensors(tmp_path, ensemble_path):
    path = ensemble_path[2]

    def fewer_documents(document, arrays):
        del document["members"][2]

    def fewer_members(document, arrays):  # consistent members, but not n_members of them
        del document["members"][2]
        document["model"]["seeds"].pop()
        for key in [k for k in arrays if k.startswith("member.2.")]:
            del arrays[key]

    def missing_tensor(document, arrays):
        del arrays["member.1.model.scaler.loc"]

    _one_line_error(
        _rewrite(path, tmp_path / "docs.safetensors", fewer_documents),
        r"inconsistent: its description lists 2 members, but its tensors are those of "
        r"members \[0, 1, 2\]",
    )
    _one_line_error(
        _rewrite(path, tmp_path / "count.safetensors", fewer_members),
        r"inconsistent \(ValueError: 2 members and 2 seeds for n_members=3\)",
    )
    _one_line_error(
        _rewrite(path, tmp_path / "tensor.safetensors", missing_tensor),
        r"inconsistent in member 1: .* missing \['scaler.loc'\]",
    )


def test_an_ensemble_must_be_fitted_and_its_base_a_forecaster_to_be_saved(tmp_path, ensemble_path):
    with pytest.raises(NotFittedError):
        EnsembleForecaster(GRUForecaster()).save(tmp_path / "x.safetensors")
    foreign = copy.deepcopy(ensemble_path[0])
    foreign.estimator = DummyRegressor()  # fitted members, a base that is not a forecaster
    with pytest.raises(
        ModelFileError,
        match="Cannot save the EnsembleForecaster whose 'estimator' is a DummyRegressor: only",
    ):
        foreign.save(tmp_path / "x.safetensors")
    assert not (tmp_path / "x.safetensors").exists()


def test_an_ensemble_drops_its_base_callbacks_with_a_warning(tmp_path, ensemble_path):
    model = copy.deepcopy(ensemble_path[0])
    model.estimator.set_params(trainer_kwargs={"callbacks": [Callback()]})
    with pytest.warns(UserWarning, match=r"not saved.*estimator__trainer_kwargs\['callbacks'\]"):
        model.save(tmp_path / "e.safetensors")
    assert load(tmp_path / "e.safetensors").estimator.trainer_kwargs == {}
