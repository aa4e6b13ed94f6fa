"""The notebook experience: what a default fit prints, and the estimators' HTML representation."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest
import sklearn
from conftest import FAST
from packaging.version import Version
from sklearn.utils import estimator_html_repr

from forecast import (
    DriftForecaster,
    GRUForecaster,
    LSTMForecaster,
    NaiveForecaster,
    RNNForecaster,
    SeasonalNaiveForecaster,
)

# Lines Lightning prints or warns when left to its defaults; none may reach a default fit.
NOISE = (
    "GPU available",
    "TPU available",
    "HPU available",
    "litlogger",
    "Tip:",
    "num_workers",
    "does not have many workers",
    "LOCAL_RANK",
    "Trainable params",
    "`Trainer.fit` stopped",
    "Validation DataLoader",
    "Warning",
    "warn",
)

FITS = """
import sys, types
# As in a Jupyter kernel: ipykernel imported, and its shell the live IPython shell.
sys.modules.setdefault("ipykernel", types.ModuleType("ipykernel"))
ZMQInteractiveShell = type("ZMQInteractiveShell", (), {})
ipython = types.ModuleType("IPython")
ipython.get_ipython = lambda: ZMQInteractiveShell()
sys.modules["IPython"] = ipython
from forecast import LSTMForecaster
from forecast.datasets import load_air_passengers

df = load_air_passengers()
runs = {
    "default": {},
    "no_bar": {"progress_bar": False},
    "verbose": {"progress_bar": False, "verbose": True},
    "logger": {"progress_bar": False, "trainer_kwargs": {"logger": True}},
}
for name, extra in runs.items():
    for stream in (sys.stdout, sys.stderr):
        print(f"=== {name}", file=stream, flush=True)
    params = dict(seq_len=12, horizon=3, hidden_size=4, max_epochs=4, random_state=0)
    LSTMForecaster(**{**params, **extra}).fit(df)
    sys.stdout.flush(); sys.stderr.flush()
"""


def _sections(text: str) -> dict[str, str]:
    parts = re.split(r"^=== (\w+)\n", text, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


@pytest.fixture(scope="module")
def fit_output(tmp_path_factory) -> tuple[dict[str, str], dict[str, str], Path]:
    """stdout and stderr of fits in a fresh process (as a notebook kernel would start)."""
    cwd = tmp_path_factory.mktemp("user_folder")
    env = {
        **os.environ,
        "PYTHONWARNINGS": "default",  # show every warning, as Jupyter does
        "OMP_NUM_THREADS": "1",  # tiny networks: faster on one thread, on a busy machine too
    }
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(FITS)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return _sections(proc.stdout), _sections(proc.stderr), cwd


def test_default_fit_shows_one_progress_bar_and_nothing_else(fit_output) -> None:
    out, err, _ = fit_output
    assert out["default"] == ""
    # tqdm redraws one line with carriage returns: every frame is the LSTM bar over 4 epochs.
    frames = [f.strip() for f in re.split(r"[\r\n]+", err["default"]) if f.strip()]
    assert frames, "no progress bar"
    assert all(re.match(r"LSTM(: .*)?:\s+\d+%\|.*\| \d/4 ", f) for f in frames), frames
    assert re.match(r"LSTM: best epoch \d: 100%", frames[-1]), frames[-1]
    assert "train_loss=" in frames[-1]
    assert "val_loss=" in frames[-1]
    for noise in NOISE:
        assert noise not in err["default"]


def test_progress_bar_false_is_silent_and_verbose_lets_lightning_speak(fit_output) -> None:
    out, err, _ = fit_output
    assert out["no_bar"] == err["no_bar"] == ""
    assert "GPU available" in err["verbose"]
    assert "Trainable params" in out["verbose"] + err["verbose"]  # the model summary


def test_no_lightning_logs_unless_a_logger_is_asked_for(fit_output) -> None:
    _, _, cwd = fit_output
    # Only the fit with trainer_kwargs={"logger": True} leaves logs, where Lightning puts
    # them by default; the others leave the user's folder as it was.
    assert sorted(p.name for p in cwd.iterdir()) == ["lightning_logs"]
    assert len(list((cwd / "lightning_logs").iterdir())) == 1


def test_warnings_that_matter_are_still_shown_once(sine_frame) -> None:
    shuffled = sine_frame.iloc[::-1]
    model = RNNForecaster(seq_len=10, horizon=2, target="y", **FAST)
    with pytest.warns(UserWarning, match=r"not in increasing order") as caught:
        model.fit(shuffled)
    assert len(caught) == 1


ESTIMATORS = [
    RNNForecaster(seq_len=30, horizon=7, trainer_kwargs={"accelerator": "cpu"}),
    LSTMForecaster(hidden_size=16, target="close"),
    GRUForecaster(dropout=0.25),
    NaiveForecaster(horizon=5),
    SeasonalNaiveForecaster(season_length=12, horizon=12),
    DriftForecaster(horizon=3, freq="B"),
]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_html_representation_shows_the_parameters(estimator) -> None:
    page = estimator._repr_html_()  # what Jupyter shows
    assert type(estimator).__name__ in page
    assert type(estimator).__name__ in estimator_html_repr(estimator)
    assert "text/html" in estimator._repr_mimebundle_()
    changed = {
        name: value
        for name, value in estimator.get_params().items()
        if value != type(estimator)().get_params()[name]
    }
    assert changed
    for name, value in changed.items():
        assert name in page
        assert html.escape(repr(value)) in page
    if Version(sklearn.__version__) >= Version("1.7"):
        # The parameter table lists every parameter, set or default.
        for name in estimator.get_params():
            assert f'<td class="param">{name}</td>' in page


def test_html_representation_of_a_fitted_model(long_frame) -> None:
    model = NaiveForecaster(horizon=2, id_col="unique_id", time_col="ds").fit(long_frame)
    page = model._repr_html_()
    assert "NaiveForecaster" in page
    assert "unique_id" in page


def test_progress_bar_ends_with_how_the_fit_ended(sine_frame, capsys, monkeypatch) -> None:
    monkeypatch.setattr("forecast.neural.training.progress_wanted", lambda: True)  # a terminal
    params = {**FAST, "progress_bar": True, "max_epochs": 20, "learning_rate": 0.3}
    model = RNNForecaster(seq_len=10, horizon=2, early_stopping_patience=1, **params)
    model.fit(sine_frame)
    captured = capsys.readouterr()
    assert captured.out == ""
    last = re.split(r"[\r\n]+", captured.err.strip())[-1]
    stopped = len(model.history_) - 1
    assert stopped < 19  # these settings stop early
    assert last.startswith(
        f"RNN: stopped early at epoch {stopped}, best epoch {model.best_epoch_}: "
    ), last
    assert f"{stopped + 1}/20" in last


@pytest.mark.parametrize(
    "trainer_kwargs",
    [{"enable_progress_bar": True}, {"callbacks": ["lightning_bar"]}],
    ids=["enable_progress_bar", "ProgressBar callback"],
)
def test_lightning_progress_bar_when_asked_for(sine_frame, capsys, trainer_kwargs) -> None:
    from lightning.pytorch.callbacks import TQDMProgressBar

    if "callbacks" in trainer_kwargs:
        trainer_kwargs = {"callbacks": [TQDMProgressBar()]}
    params = {**FAST, "progress_bar": True, "max_epochs": 1}
    RNNForecaster(seq_len=10, horizon=2, trainer_kwargs=trainer_kwargs, **params).fit(sine_frame)
    captured = capsys.readouterr()
    assert "Epoch 0" in captured.out  # Lightning's bar (on stdout), not ours
    assert "RNN:" not in captured.err


def test_no_bar_when_stderr_is_not_a_terminal(sine_frame, capsys) -> None:
    # capsys's stderr is not a terminal, as in a cron job writing to a log file
    RNNForecaster(seq_len=10, horizon=2, **{**FAST, "progress_bar": True}).fit(sine_frame)
    assert capsys.readouterr().err == ""


def test_an_imported_ipykernel_without_a_kernel_draws_no_bar(sine_frame, capsys, monkeypatch):
    # Libraries import ipykernel without running a kernel (seen after the Dask and Spark
    # tests): that alone must not turn the bar back on in a cron job.
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    RNNForecaster(seq_len=10, horizon=2, **{**FAST, "progress_bar": True}).fit(sine_frame)
    assert capsys.readouterr().err == ""


def test_under_a_step_budget_the_bar_and_the_history_plot_count_steps(
    sine_frame, capsys, monkeypatch
) -> None:
    monkeypatch.setattr("forecast.neural.training.progress_wanted", lambda: True)
    params = {**FAST, "progress_bar": True, "max_epochs": 20, "trainer_kwargs": {"max_steps": 7}}
    model = RNNForecaster(seq_len=10, horizon=2, **params).fit(sine_frame)
    last = re.split(r"[\r\n]+", capsys.readouterr().err.strip())[-1]
    assert re.match(r"RNN: 7 steps, \d+ epochs(, best epoch \d+)?: 100%\|.*\| 7/7 ", last), last
    assert "stopped early" not in last
    from forecast.plotting import plot_history

    title = plot_history(model).get_title()
    assert "step budget of 7 steps" in title
    assert "stopped early" not in title
