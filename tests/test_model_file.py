"""Crafted model files: the checksum can be recomputed, so it is no signature. Whatever a
file says is validated as ``fit`` validates, and every bad file is one ``ModelFileError``."""

from __future__ import annotations

import copy
import json

import numpy as np
import pandas as pd
import pytest
from conftest import FAST
from safetensors.numpy import save as to_bytes

from forecast import EnsembleForecaster, ModelFileError, RNNForecaster, load
from forecast.cli.main import main
from forecast.io.model_file import FORMAT, _checksum, read, write


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    index = pd.date_range("2020-01-01", periods=60, freq="D", name="date")
    frame = pd.DataFrame({"y": np.sin(np.arange(60) / 5) + 2}, index=index)
    path = tmp_path_factory.mktemp("model") / "m.safetensors"
    RNNForecaster(seq_len=6, horizon=2, **FAST).fit(frame).save(path)
    return read(path)


def _crafted(path, document, arrays, version="2"):
    """A file with a valid checksum over whatever it holds, as anyone can write one."""
    metadata = {"format": FORMAT, "format_version": version, "forecast": json.dumps(document)}
    metadata["checksum"] = _checksum(arrays, metadata)
    path.write_bytes(to_bytes(arrays, metadata=metadata))
    return path


def _refused(path, match):
    with pytest.raises(ModelFileError, match=match):
        load(path)


def _edit(saved, **changes):
    document, arrays = copy.deepcopy(saved[0]), dict(saved[1])
    for where, change in changes.items():
        change(document if where == "document" else arrays)
    return document, arrays


def test_a_parameter_fit_refuses_is_refused(tmp_path, saved):
    document, arrays = _edit(saved, document=lambda d: d["params"].update(seq_len=-5))
    _refused(_crafted(tmp_path / "m", document, arrays), r"'seq_len' .* >= 1. Got -5")


def test_a_missing_parameter_does_not_take_its_default(tmp_path, saved):
    document, arrays = _edit(saved, document=lambda d: d["params"].pop("seq_len"))
    _refused(_crafted(tmp_path / "m", document, arrays), r"lacks the parameter\(s\) \['seq_len'\]")


def test_a_missing_parameter_of_an_ensembles_base_is_refused(tmp_path, sine_frame):
    path = tmp_path / "e.safetensors"
    EnsembleForecaster(RNNForecaster(seq_len=6, horizon=2, **FAST), n_members=2).fit(
        sine_frame
    ).save(path)
    document, arrays = read(path)
    document["params"]["estimator"]["__estimator__"]["params"].pop("seq_len")
    _refused(_crafted(tmp_path / "m", document, arrays), r"lacks .*'seq_len'.* as the 'estimator'")


@pytest.mark.parametrize(
    ("param", "value", "message"),
    [
        ("seq_len", 12, r"shapes last_window \(1, 6, 1\) \(expected \(1, 12, 1\)\)"),
        ("hidden_size", 16, r"hidden_size=8 \(the parameters give 16\)"),
        ("cell", "gru", r"cell='rnn' \(the parameters give 'gru'\)"),
    ],
)
def test_parameters_must_match_the_saved_network(tmp_path, saved, param, value, message):
    document, arrays = _edit(saved, document=lambda d: d["params"].update({param: value}))
    _refused(_crafted(tmp_path / "m", document, arrays), message)


def test_a_huge_configuration_is_refused_before_anything_is_allocated(tmp_path, saved):
    def huge(d):
        d["params"]["hidden_size"] = 10**9
        d["model"]["network"]["hidden_size"] = 10**9

    document, arrays = _edit(saved, document=huge)
    _refused(_crafted(tmp_path / "m", document, arrays), r"expected \(1000000000,\)")


@pytest.mark.parametrize("key", ["model.network.head.weight", "model.scaler.scale"])
@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_weights_and_statistics_are_refused(tmp_path, saved, key, value):
    document, arrays = _edit(saved, arrays=lambda a: a.update({key: np.full_like(a[key], value)}))
    name = key.removeprefix("model.")
    _refused(_crafted(tmp_path / "m", document, arrays), rf"\['{name}'\] hold NaN or infinite")


@pytest.mark.parametrize("version", ["0", "-1", "+2", "2.0", "abc", ""])
def test_format_version_must_be_an_int_of_at_least_1(tmp_path, saved, version):
    document, arrays = _edit(saved, document=lambda d: d.update(format_version=version))
    _refused(_crafted(tmp_path / "m", document, arrays, version), r"format_version .* int >= 1")


def test_a_bool_format_version_in_the_description_is_refused(tmp_path, saved):
    document, arrays = _edit(saved, document=lambda d: d.update(format_version=True))
    _refused(_crafted(tmp_path / "m", document, arrays, "1"), r"inconsistent \(format version")


def test_a_deeply_nested_header_is_a_model_file_error(tmp_path):
    header = b'{"a":' * 50_000 + b"1" + b"}" * 50_000
    path = tmp_path / "deep.safetensors"
    path.write_bytes(len(header).to_bytes(8, "little") + header)
    _refused(path, r"its header is nested more than 64 levels deep")


def test_a_deeply_nested_description_is_a_model_file_error(tmp_path, saved):
    _, arrays = saved
    text = '{"a":' * 50_000 + "1" + "}" * 50_000
    metadata = {"format": FORMAT, "format_version": "2", "forecast": text}
    metadata["checksum"] = _checksum(arrays, metadata)
    path = tmp_path / "deep.safetensors"
    path.write_bytes(to_bytes(arrays, metadata=metadata))
    _refused(path, r"its description is nested more than 64 levels deep")


def test_the_command_line_exits_2_for_a_crafted_file(tmp_path, saved, capsys):
    document, arrays = _edit(saved, document=lambda d: d["params"].pop("seq_len"))
    path = _crafted(tmp_path / "m.safetensors", document, arrays)
    assert main(["predict", "--model", str(path)]) == 2
    assert "ModelFileError: Cannot load model file" in capsys.readouterr().err


def test_an_untouched_file_still_loads(tmp_path, saved):
    document, arrays = saved
    write(tmp_path / "m.safetensors", document, arrays)
    assert load(tmp_path / "m.safetensors").predict().shape == (2, 1)


@pytest.fixture(scope="module")
def two_series(tmp_path_factory):
    from forecast import SeasonalNaiveForecaster

    frame = pd.concat(
        [
            pd.DataFrame({"id": s, "ds": pd.date_range("2020-01-01", periods=30), "y": k + 1.0})
            for k, s in enumerate("ab")
        ]
    )
    path = tmp_path_factory.mktemp("naive") / "m.safetensors"
    SeasonalNaiveForecaster(horizon=2, season_length=7, id_col="id", time_col="ds").fit(frame).save(
        path
    )
    return read(path)


def _set(keys, value):
    def change(d):
        for key in keys[:-1]:
            d = d[key]
        d[keys[-1]] = value

    return change


@pytest.mark.parametrize(
    ("change", "message"),
    [
        # The same id twice: two series a forecast could not tell apart.
        (_set(["fitted", "series_ids"], {"kind": "str", "values": ["a", "a"]}), "saved twice"),
        # An id that is not of its kind (a dict among ints): it forecast with a dict as id.
        (_set(["fitted", "series_ids"], {"kind": "int", "values": [1, {"x": 1}]}), "their kind"),
        # Cutoffs for one series of two: pandas' 'All arrays must be of the same length'.
        (
            _set(["fitted", "cutoffs", "values"], ["2020-01-30T00:00:00"]),
            "series ids, cutoffs and starts do not match",
        ),
        (_set(["fitted", "cutoffs", "values"], [None, None]), "do not match one another"),
    ],
)
def test_inconsistent_series_state_is_refused(tmp_path, two_series, change, message):
    document, arrays = _edit(two_series, document=change)
    _refused(_crafted(tmp_path / "m", document, arrays), message)


@pytest.mark.parametrize(
    "state",
    [
        np.ones((2, 7, 1), dtype=bool),  # loaded, and forecast 1.0 for every series
        np.ones((3, 7, 1)),  # a row per series: 2, not 3 (a raw pandas error at predict)
    ],
)
def test_a_baselines_state_must_be_floats_one_row_per_series(tmp_path, two_series, state):
    document, arrays = _edit(two_series, arrays=lambda a: a.update({"model.last_season_": state}))
    _refused(_crafted(tmp_path / "m", document, arrays), "a fit saves floats, one row per series")


def test_non_float_network_weights_are_refused(tmp_path, saved):
    key = "model.network.head.weight"
    document, arrays = _edit(saved, arrays=lambda a: a.update({key: a[key] > 0}))
    _refused(_crafted(tmp_path / "m", document, arrays), r"non-float arrays \['network.head")


def test_an_infinite_tensor_offset_is_a_model_file_error(tmp_path):
    # JSON's 1e400 is a float infinity, which int() refuses with an OverflowError (exit 1).
    metadata = {"format": FORMAT, "format_version": "2", "forecast": "{}", "checksum": "x"}
    table = {"__metadata__": metadata, "x": {"dtype": "F32", "shape": [1]}}
    header = json.dumps(table).encode()[:-2] + b', "data_offsets": [0, 1e400]}}'
    path = tmp_path / "inf.safetensors"
    path.write_bytes(len(header).to_bytes(8, "little") + header + b"\0" * 4)
    _refused(path, r"its tensor table is not readable")


def test_info_on_a_damaged_description_exits_2(tmp_path, saved, capsys):
    document, arrays = _edit(saved, document=lambda d: d.update(fitted=["not", "a", "dict"]))
    path = _crafted(tmp_path / "m.safetensors", document, arrays)
    assert main(["info", str(path)]) == 2
    assert "ModelFileError: Cannot describe model file" in capsys.readouterr().err
