"""The command line: the installed script end to end, then every failure class in-process.

Subprocess runs cost a Python start and, for fit and predict, the torch and Lightning
imports, so there are few of them; error paths run through :func:`forecast.cli.main`
in-process, which is what the script calls.
"""

from __future__ import annotations

import importlib.metadata
import io
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import FAST, make_long_frame
from conftest import run_main as _run

from forecast import (
    BaseForecaster,
    EnsembleForecaster,
    GRUForecaster,
    LSTMForecaster,
    RNNForecaster,
    load,
)
from forecast.cli.commands import _estimator
from forecast.cli.main import _parser
from forecast.cli.tables import read_table

SCRIPT = Path(sys.executable).parent / "forecast"


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "forecast"]
    env = {**os.environ, "OMP_NUM_THREADS": "2"}
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300
    )


JOB = """
[model]
estimator = "gru"
seq_len = 6
horizon = 2
id_col = "unique_id"
time_col = "ds"
hidden_size = 4          # overridden by --hidden-size 8 below
max_epochs = 2
batch_size = 32
random_state = 0
trainer_kwargs = { accelerator = "cpu" }

[fit]
data = "data.csv"
out = "model.safetensors"
"""


def test_fit_then_predict_matches_the_python_api(tmp_path, long_frame):
    long_frame.to_csv(tmp_path / "data.csv", index=False)
    (tmp_path / "job.toml").write_text(JOB)

    fit = run_cli("fit", "--config", "job.toml", "--hidden-size", "8", cwd=tmp_path)
    assert fit.returncode == 0, fit.stderr
    assert fit.stdout == ""
    assert "forecast: INFO: wrote" in fit.stderr
    pred = run_cli(
        "predict", "--model", "model.safetensors", "--data", "data.csv", "--out", "-",
        "--no-metadata", cwd=tmp_path,
    )  # fmt: skip
    assert pred.returncode == 0, pred.stderr

    df = read_table(tmp_path / "data.csv", time_col="ds")
    model = GRUForecaster(
        seq_len=6, horizon=2, id_col="unique_id", time_col="ds", hidden_size=8, max_epochs=2,
        batch_size=32, random_state=0, trainer_kwargs={"accelerator": "cpu"},
        progress_bar=False,
    ).fit(df)  # fmt: skip
    assert pred.stdout == model.predict(df).to_csv(index=False)  # same digits, bit for bit
    assert load(tmp_path / "model.safetensors").get_params() == model.get_params()


def test_errors_are_one_line_with_exit_code_2(tmp_path):
    quiet = run_cli("predict", "--model", "missing.safetensors", cwd=tmp_path)
    assert quiet.returncode == 2
    assert quiet.stdout == ""
    assert quiet.stderr == (
        "forecast: error: ModelFileError: Cannot load model file 'missing.safetensors': "
        "no such file\n"
    )
    loud = run_cli("--verbose", "predict", "--model", "missing.safetensors", cwd=tmp_path)
    assert loud.returncode == 2
    assert "Traceback (most recent call last)" in loud.stderr


@pytest.fixture(scope="module")
def wide(tmp_path_factory) -> tuple[Path, RNNForecaster, pd.DataFrame]:
    """A wide daily frame fitted from Python (DatetimeIndex 'date'), saved, and as CSV."""
    folder = tmp_path_factory.mktemp("wide")
    t = np.arange(80)
    index = pd.date_range("2020-01-01", periods=80, freq="D", name="date")
    df = pd.DataFrame({"y": np.sin(t / 3), "x": np.cos(t / 3)}, index=index)
    model = RNNForecaster(seq_len=6, horizon=3, target="y", **FAST).fit(df)
    model.save(folder / "model.safetensors")
    df.to_csv(folder / "data.csv")
    return folder, model, df


def test_info_and_help_start_without_torch(wide):
    folder = wide[0]
    code = textwrap.dedent(
        """
        import sys
        from forecast.cli import main
        assert main(sys.argv[1:]) == 0
        print(sorted({"torch", "lightning", "pandas"} & set(sys.modules)), file=sys.stderr)
        """
    )
    for args, shown in ((["info", "model.safetensors"], "RNNForecaster (forecast "),
                        (["--help"], "usage: forecast")):  # fmt: skip
        proc = subprocess.run(
            [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=folder
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr.strip() == "[]"
        assert proc.stdout.startswith(shown)


# ---------------------------------------------------------------------------- in-process


def test_predict_csv_and_parquet(wide, tmp_path, capsys):
    folder, model, df = wide
    code, out, err = _run(capsys, "predict", "--model", folder / "model.safetensors",
                          "--data", folder / "data.csv", "--horizon", "2",
                          "--no-metadata")  # fmt: skip
    assert code == 0, err
    assert out == model.predict(df, horizon=2).to_csv()
    assert re.fullmatch(r"\S+Z forecast: INFO: wrote 2 forecast rows to stdout\n", err)

    pytest.importorskip("pyarrow")
    df.to_parquet(tmp_path / "data.parquet")
    parquet = ("--data", tmp_path / "data.parquet", "--out", tmp_path / "fc.parquet",
               "--no-metadata")  # fmt: skip
    code, out, err = _run(
        capsys, "--quiet", "predict", "--model", folder / "model.safetensors", *parquet
    )
    assert (code, out, err) == (0, "", "")
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "fc.parquet"), model.predict(df), check_exact=True,
        check_freq=False,  # Parquet keeps the timestamps, not the index's freq attribute
    )  # fmt: skip


def test_info_json(wide, capsys):
    code, out, _ = _run(capsys, "info", wide[0] / "model.safetensors", "--json")
    card = json.loads(out)
    assert code == 0
    assert (card["estimator"], card["targets"], card["freq"]) == ("RNNForecaster", ["y"], "D")
    assert card["params"]["seq_len"] == 6


def test_every_parameter_is_a_flag(capsys):
    code, out, _ = _run(capsys, "fit", "--help")
    assert code == 0
    for name in RNNForecaster().get_params():
        flag = "--estimator-verbose" if name == "verbose" else "--" + name.replace("_", "-")
        assert flag in out


def test_flag_help_is_not_cut_at_an_abbreviation(capsys):
    _, out, _ = _run(capsys, "fit", "--help")
    text = " ".join(out.split())
    assert "(e.g. a ticker's sector code), fed to the head" in text  # --static-covariates
    assert "in (0, 1), e.g. [0.1, 0.5, 0.9]): the head emits" in text  # --quantiles
    assert "e.g. Default" not in text


def test_flag_values_are_typed():
    argv = [
        "fit", "--target", "close,open", "--scaler", "none", "--validation-size", "0.2",
        "--early-stopping-patience", "None", "--trainer-kwargs", '{"accelerator": "cpu"}',
        "--freq", '{"holidays": ["2024-12-25"]}', "--progress-bar", "false",
        "--random-state", "3", "--estimator-verbose", "yes", "--seq-len", "5",
    ]  # fmt: skip
    params = {
        k[len("param.") :]: v
        for k, v in vars(_parser(argv).parse_args(argv)).items()
        if k.startswith("param.")
    }
    assert params == {
        "target": ["close", "open"],
        "scaler": None,
        "validation_size": 0.2,
        "early_stopping_patience": None,
        "trainer_kwargs": {"accelerator": "cpu"},
        "freq": pd.offsets.CustomBusinessDay(holidays=["2024-12-25"]),
        "progress_bar": False,
        "random_state": 3,
        "verbose": True,
        "seq_len": 5,
    }
    args = _parser(["fit", "--target", "close"]).parse_args(["fit", "--target", "close"])
    assert vars(args)["param.target"] == "close"


@pytest.fixture
def files(tmp_path, wide) -> Path:
    wide[2].to_csv(tmp_path / "data.csv")
    wide[2].drop(columns="y").to_csv(tmp_path / "no_y.csv")
    raw = bytearray((wide[0] / "model.safetensors").read_bytes())
    raw[-1] ^= 1
    (tmp_path / "damaged.safetensors").write_bytes(bytes(raw))
    (tmp_path / "job.toml").write_text("[model]\nsequence_length = 5\n")
    (tmp_path / "model.safetensors").write_bytes((wide[0] / "model.safetensors").read_bytes())
    return tmp_path


FIT = ("fit", "--time-col", "date", "--out", "{d}/m.safetensors")


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        ((*FIT, "--data", "{d}/nope.csv"), 2,
         r"DataError: Cannot read data file '.*nope\.csv': no such file\."),
        ((*FIT, "--data", "{d}/data.csv", "--target", "price"), 2,
         r"DataError: .*data\.csv: Target column 'price' is not in the data\. Columns: "),
        (("fit", "--data", "{d}/data.csv", "--time-col", "when", "--out", "{d}/m.st"), 2,
         r"DataError: Data file '.*data\.csv' has no column 'when' \(the time column\)"),
        ((*FIT, "--data", "{d}/data.csv", "--seq-len", "ten"), 2,
         r"UsageError: argument --seq-len: invalid int value: 'ten' \(see 'forecast fit"),
        (("fit", "--data", "{d}/data.csv"), 2, r"UsageError: forecast fit needs --out\."),
        ((*FIT, "--data", "{d}/data.xlsx"), 2,
         r"UsageError: Cannot tell the format of data file '.*data\.xlsx'"),
        ((*FIT, "--data", "{d}/data.csv", "--out", "{d}/no/such/m.st"), 2,
         r"UsageError: Cannot write '.*m\.st': folder '.*such' does not exist\."),
        ((*FIT, "--config", "{d}/job.toml"), 2,
         r"UsageError: Config file '.*job\.toml': \['sequence_length'\] in \[model\] are not "),
        ((*FIT, "--estimator", "prophet"), 2, r"UsageError: Unknown estimator 'prophet'"),
        ((*FIT, "--estimator", "ensemble"), 2,
         r"UsageError: EnsembleForecaster wraps another .*: --estimator lstm --ensemble 5\."),
        ((*FIT, "--data", "{d}/data.csv", "--ensemble", "0"), 2,
         r"UsageError: --ensemble \(ensemble in \[model\]\) must be an int >= 1, .* Got 0"),
        ((*FIT, "--data", "{d}/data.csv", "--estimator", "naive", "--ensemble", "2"), 2,
         r"InvalidParameterError: .*data\.csv: The 'estimator' parameter of EnsembleForecaster "
         r"must be a forecaster with a random_state"),
        (("predict", "--model", "{d}/damaged.safetensors"), 2,
         r"ModelFileError: Cannot load model file '.*damaged\.safetensors': checksum mismatch"),
        (("predict", "--model", "{d}/model.safetensors", "--data", "{d}/no_y.csv"), 2,
         r"DataError: .*no_y\.csv: The data has other columns than at fit: missing \['y'\]"),
        (("predict", "--model", "{d}/model.safetensors", "--horizon", "9"), 2,
         r"InvalidParameterError: The 'horizon' parameter of RNNForecaster must be an int "),
        (("info",), 2, r"UsageError: the following arguments are required: model"),
        (("forecastify",), 2, r"UsageError: argument COMMAND: invalid choice: 'forecastify'"),
        ((), 2, r"UsageError: a command is required"),
    ],
)  # fmt: skip
def test_failures(files, capsys, args, code, message):
    result, out, err = _run(capsys, *(a.format(d=files) for a in args))
    assert result == code
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("forecast: error: ")
    assert re.search(message, err), err


def test_config_paths_are_relative_to_the_config_file(files, tmp_path_factory, capsys, monkeypatch):
    (files / "nightly.toml").write_text(
        '[predict]\nmodel = "model.safetensors"\ndata = "data.csv"\nout = "fc.csv"\n'
    )
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))
    assert _run(capsys, "--quiet", "predict", "--config", files / "nightly.toml") == (0, "", "")
    assert (files / "fc.csv").read_text().startswith("date,y,forecast_origin,")
    code, _, err = _run(capsys, "predict", "--config", files / "nightly.toml", "--window", "3")
    assert code == 2
    assert "unrecognized arguments: --window 3" in err


def test_unexpected_errors_exit_1(files, capsys, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("forecast.cli.tables.read_table", boom)
    result = _run(capsys, *(a.format(d=files) for a in FIT), "--data", files / "data.csv")
    assert result == (1, "", "forecast: error: RuntimeError: disk on fire\n")


def test_parquet_without_pyarrow(files, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    code, _, err = _run(capsys, "predict", "--model", files / "model.safetensors",
                        "--out", files / "fc.parquet")  # fmt: skip
    assert code == 2
    assert "needs pyarrow, which is not installed. Install it with `pip install" in err
    assert not (files / "fc.parquet").exists()


def test_a_closed_stdout_ends_quietly(files, capsys, monkeypatch):
    def closed(*args, **kwargs):
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr("forecast.cli.tables.write_table", closed)
    assert _run(capsys, "predict", "--model", files / "model.safetensors") == (1, "", "")


def test_warnings_are_logged_on_one_line(files, capsys):
    df = pd.read_csv(files / "data.csv").assign(note="x")
    df.to_csv(files / "noted.csv", index=False)
    code, _, err = _run(capsys, "fit", "--data", files / "noted.csv", "--time-col", "date",
                        "--target", "y", "--seq-len", "4", "--max-epochs", "1",
                        "--hidden-size", "4", "--out", files / "m.safetensors")  # fmt: skip
    assert code == 0, err
    assert "forecast: WARNING: Non-numeric columns ['note'] are not used" in err
    assert load(files / "m.safetensors").covariate_names_ == ["x"]


def test_backtest_writes_metrics(files, capsys):
    pytest.importorskip("forecast.backtest")
    (files / "bt.toml").write_text(
        '[model]\nestimator = "rnn"\nseq_len = 6\nhorizon = 3\ntarget = "y"\n'
        'time_col = "date"\nhidden_size = 4\nmax_epochs = 1\nrandom_state = 0\n'
    )
    options = ("--data", files / "data.csv", "--windows", "2", "--out", files / "metrics.csv")
    code, _, err = _run(capsys, "backtest", "--model-config", files / "bt.toml", *options)
    assert code == 0, err
    assert len(pd.read_csv(files / "metrics.csv")) >= 1
    assert "backtest summary" in err


@pytest.mark.parametrize(
    ("flags", "refit"),
    [((), None), (("--refit",), True), (("--no-refit",), False), (("--refit-every", "2"), 2)],
)
def test_backtest_refit_flags(files, capsys, monkeypatch, flags, refit):
    import forecast.evaluation.backtest

    seen = {}
    real = forecast.evaluation.backtest.backtest

    def spy(estimator, df, **kwargs):
        seen.update(kwargs)
        return real(estimator, df, **kwargs)

    monkeypatch.setattr(forecast.evaluation.backtest, "backtest", spy)
    code, _, err = _run(capsys, "backtest", "--data", files / "data.csv", "--time-col", "date",
                        "--target", "y", "--seq-len", "4", "--horizon", "2", "--max-epochs", "1",
                        "--hidden-size", "4", "--windows", "3", *flags)  # fmt: skip
    assert code == 0, err
    assert seen.get("refit") == refit


def test_backtest_refit_flags_exclude_each_other(files, capsys):
    code, _, err = _run(capsys, "backtest", "--data", files / "data.csv", "--refit",
                        "--refit-every", "2")  # fmt: skip
    assert code == 2
    assert "not allowed with argument" in err


def test_output_is_written_atomically(files, capsys, monkeypatch):
    (files / "fc.csv").write_text("previous forecast\n")

    def half(frame, f, **kwargs):
        f.write(b"date,y\n2020")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", half)
    code, _, err = _run(capsys, "predict", "--model", files / "model.safetensors",
                        "--out", files / "fc.csv")  # fmt: skip
    assert code == 1
    assert "OSError: [Errno 28] No space left on device" in err
    assert (files / "fc.csv").read_text() == "previous forecast\n"
    assert not [p for p in files.iterdir() if p.name.endswith(".tmp")]


def test_python_dash_m(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "forecast", "--version"], capture_output=True, text=True
    )
    assert proc.returncode == 0
    assert proc.stdout.startswith("forecast ")
    assert io.StringIO(proc.stdout).read().count("\n") == 1


def test_the_version_is_looked_up_only_when_asked_for():
    # importlib.metadata was most of `import forecast.cli` (52 of 65 ms): --help never needs it.
    code = textwrap.dedent(
        """
        import sys
        import forecast.cli
        assert "importlib.metadata" not in sys.modules, "imported with forecast.cli"
        import forecast
        print(forecast.__version__)
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == importlib.metadata.version("forecast-rnn")


def test_quantile_and_coverage_flags_are_lists_of_floats():
    argv = ["fit", "--quantiles", "0.1,0.5,0.9", "--coverage", "0.9", "--intervals", "none"]
    params = {k: v for k, v in vars(_parser(argv).parse_args(argv)).items() if "param." in k}
    assert params == {
        "param.quantiles": [0.1, 0.5, 0.9],
        "param.coverage": 0.9,
        "param.intervals": None,
    }
    argv = ["fit", "--coverage", "0.8,0.95", "--quantiles", "0.5"]
    params = {k: v for k, v in vars(_parser(argv).parse_args(argv)).items() if "param." in k}
    assert params == {"param.coverage": [0.8, 0.95], "param.quantiles": [0.5]}


@pytest.mark.parametrize(
    ("flags", "columns"),
    [
        (
            ["--quantiles", "0.1,0.9", "--seq-len", "6", "--hidden-size", "8", "--max-epochs", "1"],
            ["date", "y", "y_q0.1", "y_q0.9"],
        ),
        (
            ["--estimator", "naive", "--intervals", "conformal", "--coverage", "0.8,0.95"],
            ["date", "y", "y_q0.025", "y_q0.1", "y_q0.9", "y_q0.975"],
        ),
    ],
)
def test_predict_writes_the_quantile_columns(wide, tmp_path, capsys, flags, columns):
    data, model = wide[0] / "data.csv", tmp_path / "m.safetensors"
    fit = ["fit", "--data", data, "--time-col", "date", "--target", "y", "--horizon", "3"]
    code, _, err = _run(capsys, *fit, *flags, "--out", model)
    assert code == 0, err
    code, _, err = _run(capsys, "predict", "--model", model, "--out", tmp_path / "fc.csv",
                        "--no-metadata")  # fmt: skip
    assert code == 0, err
    written = pd.read_csv(tmp_path / "fc.csv")
    assert list(written.columns) == columns
    expected = load(model).predict()
    np.testing.assert_allclose(written[columns[1:]].to_numpy(), expected.to_numpy(), rtol=1e-12)


def test_ensemble_fit_predict_and_info(tmp_path, long_frame, capsys):
    long_frame.to_csv(tmp_path / "data.csv", index=False)
    job = JOB.replace('estimator = "gru"\n', 'estimator = "gru"\nensemble = 2\n')
    (tmp_path / "job.toml").write_text(job)
    code, _, err = _run(capsys, "fit", "--config", tmp_path / "job.toml", "--hidden-size", "4")
    assert code == 0, err
    assert "fitted EnsembleForecaster on 3 series" in err
    code, _, err = _run(capsys, "predict", "--model", tmp_path / "model.safetensors",
                        "--data", tmp_path / "data.csv", "--out", tmp_path / "fc.csv",
                        "--no-metadata")  # fmt: skip
    assert code == 0, err

    df = read_table(tmp_path / "data.csv", time_col="ds")
    base = GRUForecaster(
        seq_len=6, horizon=2, id_col="unique_id", time_col="ds", hidden_size=4, max_epochs=2,
        batch_size=32, random_state=0, trainer_kwargs={"accelerator": "cpu"},
        progress_bar=False,
    )  # fmt: skip
    model = EnsembleForecaster(base, n_members=2).fit(df)
    assert (tmp_path / "fc.csv").read_text() == model.predict(df).to_csv(index=False)
    saved = load(tmp_path / "model.safetensors")
    assert saved.seeds_ == [0, 1]
    assert saved.estimator.get_params() == base.get_params()

    code, out, _ = _run(capsys, "info", tmp_path / "model.safetensors")
    assert code == 0
    assert out.startswith("EnsembleForecaster (forecast ")
    assert "members:     2 GRUForecaster (seeds 0, 1), forecasts combined by median" in out


def test_the_ensemble_flag_overrides_the_config(tmp_path):
    (tmp_path / "job.toml").write_text('[model]\nestimator = "lstm"\nensemble = 2\nhorizon = 4\n')
    for argv, expected in (([], 2), (["--ensemble", "5"], 5)):
        argv = ["fit", "--config", str(tmp_path / "job.toml"), *argv]
        model = _estimator(_parser(argv).parse_args(argv))
        assert isinstance(model, EnsembleForecaster)
        assert (model.n_members, model.horizon) == (expected, 4)
        assert isinstance(model.estimator, LSTMForecaster)
    argv = ["fit", "--estimator", "gru"]
    assert isinstance(_estimator(_parser(argv).parse_args(argv)), GRUForecaster)


def test_a_partner_combines_the_model_with_statistical_models_fitted_per_series(
    tmp_path, long_frame, capsys
):
    from forecast import CombinedForecaster, DampedTrendForecaster, ThetaForecaster

    long_frame.to_csv(tmp_path / "data.csv", index=False)
    job = JOB.replace("random_state = 0\n", "random_state = 0\nseason_length = 12\n")
    job = job.replace('estimator = "gru"\n', 'estimator = "gru"\npartner = "theta+damped-trend"\n')
    (tmp_path / "job.toml").write_text(job)
    code, _, err = _run(capsys, "fit", "--config", tmp_path / "job.toml", "--partner-weight", "0.4")
    assert code == 0, err
    assert "fitted CombinedForecaster on 3 series" in err
    code, _, err = _run(capsys, "predict", "--model", tmp_path / "model.safetensors",
                        "--data", tmp_path / "data.csv", "--out", tmp_path / "fc.csv",
                        "--no-metadata")  # fmt: skip
    assert code == 0, err

    df = read_table(tmp_path / "data.csv", time_col="ds")
    network = GRUForecaster(
        seq_len=6, horizon=2, id_col="unique_id", time_col="ds", hidden_size=4, max_epochs=2,
        batch_size=32, random_state=0, trainer_kwargs={"accelerator": "cpu"},
        progress_bar=False, season_length=12,
    )  # fmt: skip
    local = {"season_length": 12, "horizon": 2, "id_col": "unique_id", "time_col": "ds"}
    partner = CombinedForecaster(ThetaForecaster(**local), DampedTrendForecaster(**local))
    model = CombinedForecaster(network, partner, partner_weight=0.4).fit(df)
    assert (tmp_path / "fc.csv").read_text() == model.predict(df).to_csv(index=False)

    code, out, _ = _run(capsys, "info", tmp_path / "model.safetensors")
    assert code == 0
    assert "members:     GRUForecaster (weight 0.6), CombinedForecaster(ThetaForecaster +" in out
    assert "forecasts:   y (2 steps ahead)" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--partner", "theta"], r"--partner theta fits a statistical model per series, which "
                                 r"needs the season: add --season-length"),
        (["--partner-weight", "0.3"], r"--partner-weight \(partner_weight in \[model\]\) needs"),
        (["--partner", "arima"], r"argument --partner: invalid choice: 'arima'"),
    ],
)  # fmt: skip
def test_a_partner_without_what_it_needs_is_a_usage_error(tmp_path, capsys, argv, message):
    data = tmp_path / "data.csv"
    pd.DataFrame(
        {"date": pd.date_range("2020-01-01", periods=30, freq="MS"), "y": np.arange(30.0)}
    ).to_csv(data, index=False)
    code, _, err = _run(capsys, "fit", "--data", data, "--time-col", "date", "--horizon", "2",
                        "--out", tmp_path / "m.st", *argv)  # fmt: skip
    assert code == 2
    assert re.search(message, err), err
    assert not (tmp_path / "m.st").exists()


def test_a_plain_value_error_raised_anywhere_in_forecast_is_bad_input():
    from forecast.cli.logs import _from_our_code
    from forecast.data.panel import Panel

    panel = Panel(
        values=np.zeros((3, 1)),
        offsets=np.array([0, 3]),
        ids=[None],
        times=pd.date_range("2024-01-01", periods=3),
        target_names=["y"],
        covariate_names=[],
        freq=pd.offsets.Day(),
    )
    with pytest.raises(ValueError, match="one length >= 1") as raised:
        panel.head(np.array([0]))  # a ValueError of forecast/data/, outside forecast/cli/
    assert _from_our_code(raised.value)
    with pytest.raises(ValueError, match="invalid literal") as raised:
        int("not a number")
    assert not _from_our_code(raised.value)


# ------------------------------------------------------------------------------ --preset panel


def _short_panel() -> pd.DataFrame:
    """Three monthly series of 20, 25 and 30 rows: short enough that their lengths cap the
    preset's input length (16 instead of 24 for a season of 12 and a horizon of 6)."""
    frame = make_long_frame()
    return pd.concat(
        [g.tail(n) for (_, g), n in zip(frame.groupby("unique_id"), (20, 25, 30), strict=True)],
        ignore_index=True,
    )


def test_preset_panel_fits_the_model_panel_forecaster_builds_for_the_data(tmp_path, capsys):
    from forecast.presets import panel_forecaster, panel_params

    df = _short_panel()
    df.to_csv(tmp_path / "data.csv", index=False)
    lengths = df.groupby("unique_id").size().to_numpy()
    assert panel_params(12, 6, lengths)["seq_len"] == 16 != panel_params(12, 6)["seq_len"]
    code, _, err = _run(capsys, "fit", "--preset", "panel", "--season-length", "12",
                        "--horizon", "6", "--id-col", "unique_id", "--time-col", "ds",
                        "--hidden-size", "4", "--random-state", "0",
                        "--trainer-kwargs", '{"max_steps": 4, "accelerator": "cpu"}',
                        "--data", tmp_path / "data.csv", "--out", tmp_path / "m.st")  # fmt: skip
    assert code == 0, err
    assert "--preset panel for 3 series: seq_len 16, max_steps 4" in err
    code, _, err = _run(capsys, "predict", "--model", tmp_path / "m.st", "--data",
                        tmp_path / "data.csv", "--out", tmp_path / "fc.csv",
                        "--no-metadata")  # fmt: skip
    assert code == 0, err

    expected = panel_forecaster(
        12, 6, lengths, id_col="unique_id", time_col="ds", hidden_size=4, random_state=0,
        trainer_kwargs={"max_steps": 4, "accelerator": "cpu"}, progress_bar=False,
    )  # fmt: skip
    saved = load(tmp_path / "m.st")  # an LSTMForecaster where panel_forecaster has an RNN's cell
    assert isinstance(saved.forecaster, LSTMForecaster)
    same = {k for k, v in expected.get_params().items() if isinstance(v, BaseForecaster)}
    assert {k: v for k, v in saved.get_params().items() if k not in same} == {
        k: v for k, v in expected.get_params().items() if k not in same
    }
    frame = read_table(tmp_path / "data.csv", time_col="ds")
    with pytest.warns(UserWarning, match="Dropped 1 series too short to train on: series 'a'"):
        expected.fit(frame)  # as the command line did: 'a' is forecast, not trained on
    assert (tmp_path / "fc.csv").read_text() == expected.predict(frame).to_csv(index=False)


def test_preset_panel_in_a_config_with_overrides_and_without_a_partner(tmp_path):
    from forecast.presets import panel_params

    df = _short_panel()
    (tmp_path / "job.toml").write_text(
        '[model]\npreset = "panel"\nseason_length = 12\nhorizon = 6\nid_col = "unique_id"\n'
        'time_col = "ds"\nlearning_rate = 0.001\ntrainer_kwargs = { accelerator = "cpu" }\n'
    )
    lengths = df.groupby("unique_id").size().to_numpy()
    for extra, partner in (([], "CombinedForecaster"), (["--partner", "theta"], "ThetaForecaster")):
        argv = ["fit", "--config", str(tmp_path / "job.toml"), *extra]
        model = _estimator(_parser(argv).parse_args(argv), lengths)
        network = model.forecaster
        assert isinstance(network, LSTMForecaster)  # the preset's network without --estimator
        assert type(model.partner).__name__ == partner
        assert model.partner_weight == 0.5
        expected = panel_params(12, 6, lengths) | {"learning_rate": 0.001, "season_length": 12}
        expected["trainer_kwargs"] = {"max_steps": 3000, "accelerator": "cpu"}  # merged
        assert {k: network.get_params()[k] for k in expected} == expected
    argv = ["fit", "--config", str(tmp_path / "job.toml"), "--partner", "none", "--estimator",
            "gru", "--seq-len", "5"]  # fmt: skip
    model = _estimator(_parser(argv).parse_args(argv), lengths)
    assert isinstance(model, GRUForecaster)
    assert (model.seq_len, model.scaler, model.swa_start) == (5, "window_level", 0.67)


def test_preset_panel_backtests(tmp_path, capsys):
    from forecast.presets import panel_params

    _short_panel().to_csv(tmp_path / "data.csv", index=False)
    code, out, err = _run(capsys, "backtest", "--preset", "panel", "--season-length", "12",
                          "--horizon", "3", "--id-col", "unique_id", "--time-col", "ds",
                          "--hidden-size", "4", "--windows", "2", "--no-metadata",
                          "--trainer-kwargs", '{"max_steps": 2, "accelerator": "cpu"}',
                          "--data", tmp_path / "data.csv", "--out", "-")  # fmt: skip
    assert code == 0, err
    # seq_len from the training parts at the oldest cutoff (14, 19, 24 rows), so that 'a'
    # is forecast at both cutoffs; the whole series' lengths give 19, more than 'a' has then
    seq_len = panel_params(12, 3, [14, 19, 24])["seq_len"]
    assert seq_len < 14 < panel_params(12, 3, [20, 25, 30])["seq_len"]
    assert f"--preset panel for 3 series: seq_len {seq_len}, max_steps 2" in err
    metrics = pd.read_csv(io.StringIO(out))
    assert set(metrics["unique_id"]) == {"a", "b", "c"}
    assert np.isfinite(metrics["mae"]).all()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--horizon", "2"], r"--preset panel derives its settings from the season and the "
                             r"horizon: add --season-length \(season_length and horizon"),
        (["--season-length", "12"], r"add --horizon"),
        (["--season-length", "12", "--horizon", "2", "--estimator", "theta"],
         r"--preset panel sets a recurrent network's parameters; ThetaForecaster is not one"),
        (["--preset", "best"], r"argument --preset: invalid choice: 'best'"),
        (["--season-length", "12", "--horizon", "2", "--partner", "none", "--partner-weight",
          "0.3"], r"--partner-weight \(partner_weight in \[model\]\) weighs a partner, and "
                  r"--partner none asks for none"),
    ],
)  # fmt: skip
def test_preset_panel_without_what_it_needs_is_a_usage_error(tmp_path, capsys, argv, message):
    _short_panel().to_csv(tmp_path / "data.csv", index=False)
    code, _, err = _run(capsys, "fit", "--preset", "panel", "--id-col", "unique_id",
                        "--time-col", "ds", "--data", tmp_path / "data.csv",
                        "--out", tmp_path / "m.st", *argv)  # fmt: skip
    assert code == 2
    assert re.search(message, err), err
    assert not (tmp_path / "m.st").exists()


def test_preset_backtest_lengths_leave_out_the_series_the_backtest_skips(tmp_path, capsys):
    from forecast.presets import panel_params

    df = _short_panel()
    d = df[df["unique_id"] == "c"].tail(4).assign(unique_id="d")  # 4 rows: nothing to train
    pd.concat([df, d], ignore_index=True).to_csv(tmp_path / "data.csv", index=False)
    code, out, err = _run(capsys, "backtest", "--preset", "panel", "--season-length", "12",
                          "--horizon", "3", "--windows", "2", "--step", "2",
                          "--on-bad-series", "skip", "--max-bad-fraction", "0.5",
                          "--id-col", "unique_id", "--time-col",
                          "ds", "--hidden-size", "4", "--no-metadata",
                          "--trainer-kwargs", '{"max_steps": 2, "accelerator": "cpu"}',
                          "--data", tmp_path / "data.csv", "--out", "-")  # fmt: skip
    assert code == 0, err
    # 3 + (2 - 1) * 2 = 5 rows held out: 15, 20 and 25 left to train on; 'd' has none
    seq_len = panel_params(12, 3, [15, 20, 25])["seq_len"]
    assert seq_len > 1
    assert f"--preset panel for 3 series: seq_len {seq_len}, max_steps 2" in err
    assert "Left 1 bad series out of the backtest: 'd'" in err
    assert set(pd.read_csv(io.StringIO(out))["unique_id"]) == {"a", "b", "c"}


def test_preset_counts_the_series_of_a_multiindex_frame(tmp_path, capsys):
    _short_panel().set_index(["unique_id", "ds"]).to_parquet(tmp_path / "data.parquet")
    code, _, err = _run(capsys, "fit", "--preset", "panel", "--season-length", "12",
                        "--horizon", "6", "--hidden-size", "4",
                        "--trainer-kwargs", '{"max_steps": 2, "accelerator": "cpu"}',
                        "--data", tmp_path / "data.parquet",
                        "--out", tmp_path / "m.st")  # fmt: skip
    assert code == 0, err
    assert "--preset panel for 3 series: seq_len 16, max_steps 2" in err
    assert load(tmp_path / "m.st").forecaster.seq_len == 16


def test_preset_with_init_from_is_a_usage_error(tmp_path, capsys):
    _short_panel().to_csv(tmp_path / "data.csv", index=False)
    code, _, err = _run(capsys, "fit", "--preset", "panel", "--season-length", "12",
                        "--horizon", "6", "--id-col", "unique_id", "--time-col", "ds",
                        "--init-from", tmp_path / "old.st", "--data", tmp_path / "data.csv",
                        "--out", tmp_path / "m.st")  # fmt: skip
    assert code == 2
    assert "--preset (preset in [model]) builds a new model's settings, and --init-from" in err
    assert not (tmp_path / "m.st").exists()


def test_backtest_of_a_saved_model_refuses_a_preset(tmp_path, capsys):
    _short_panel().to_csv(tmp_path / "data.csv", index=False)
    model = tmp_path / "m.st"
    network = LSTMForecaster(seq_len=4, horizon=2, id_col="unique_id", time_col="ds",
                             max_epochs=1, hidden_size=4, trainer_kwargs={"accelerator": "cpu"},
                             progress_bar=False)  # fmt: skip
    network.fit(read_table(tmp_path / "data.csv", time_col="ds")).save(model)
    for flags in (["--preset", "panel"], ["--partner", "none"], ["--partner-weight", "0.3"]):
        code, _, err = _run(capsys, "backtest", "--model", model, *flags,
                            "--data", tmp_path / "data.csv")  # fmt: skip
        assert code == 2
        assert f"leave out the estimator flags ({flags[0]})" in err, err
