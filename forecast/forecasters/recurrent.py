"""``RNNForecaster``, ``LSTMForecaster``, ``GRUForecaster``: recurrent networks as forecasters.

The hooks of :class:`~forecast.BaseForecaster` for a network trained on windows: the
parameters are checked here, the frame was validated and converted by the base class;
:mod:`forecast.data.windowing` makes the windows, :mod:`forecast.data.scaling` scales them,
:func:`forecast.neural.training.fit_module` runs Lightning on
:class:`~forecast.neural.module.RecurrentModule`, and
:class:`~forecast.forecasters._network_forecast.NetworkRunner` forecasts with the result.

Lightning and torch are imported when a network is trained, not when one forecasts: every
forecast runs the trained weights in NumPy (:mod:`forecast.neural.inference`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import FunctionType
from typing import TYPE_CHECKING, Any, ClassVar, ParamSpec, TypeVar

import numpy as np
import pandas as pd

from forecast._exceptions import InvalidParameterError
from forecast._validation import (
    check_bool,
    check_float,
    check_int,
    check_option,
    check_seed,
    fit_seed,
)
from forecast.data.panel import Layout, Panel
from forecast.data.scaling import SCALERS, SeriesScaler, StaticScaler
from forecast.data.window_index import WindowIndex, last_windows
from forecast.forecasters import _masking
from forecast.forecasters._bad_series import unservable
from forecast.forecasters._fit_windows import check_partial_horizons, fit_windows
from forecast.forecasters._network_forecast import (
    NetworkRunner,
    WindowFix,
    numpy_network,
    torch_network,
)
from forecast.forecasters._network_size import allocating
from forecast.forecasters._saved_network import restored_network
from forecast.forecasters._short_series import trainable_series
from forecast.forecasters._warm_start import check_warm_start_params, start_from, warm_state
from forecast.forecasters.base import BaseForecaster
from forecast.neural.inference import GATES as CELLS
from forecast.neural.loss_names import (
    LR_SCHEDULES,
    RELATIVE_LOSSES,
    check_loss,
    check_relative_loss,
    resolve_loss,
)
from forecast.neural.quantiles import network_levels, split_output
from forecast.protocol import DATA_ATTRIBUTES, TRAINING_ATTRIBUTES, Forecast, TrainedForecaster

if TYPE_CHECKING:
    from forecast.neural.network import RecurrentRegressor

__all__ = ["GRUForecaster", "LSTMForecaster", "RNNForecaster"]


class RNNForecaster(BaseForecaster, TrainedForecaster):
    """Recurrent-network forecaster: a DataFrame in, a DataFrame of future values out.

    The network reads ``seq_len`` past steps of the targets and past covariates (every
    numeric column that is not a target) and emits all ``horizon`` steps at once from the
    last time step's hidden state. Scaling, windowing, validation split, early stopping and
    seeding are handled; the training loop is Lightning's.

    Parameters
    ----------
    cell : {"rnn", "lstm", "gru"}, default "rnn"
        Recurrent cell. ``LSTMForecaster`` and ``GRUForecaster`` change only this default.
    seq_len : int, default 24
        Input window length L (time steps the network reads).
    horizon : int, default 1
        Steps forecast at once, H.
    target : str, list of str or None, default None
        Column(s) to forecast; ``None`` forecasts every numeric column.
    past_covariates : str, list of str or None, default None
        Columns read in the input window only. ``None``: every numeric column not a target
        or listed below, named once in a logged warning (:mod:`forecast.data.past_covariates`).
    future_covariates : str, list of str or None, default None
        Columns whose values are known ahead (calendar, holidays, planned prices; see
        :func:`forecast.features.calendar_features`). They are inputs of the window, and
        their values over the horizon feed the head. At predict time pass those values as
        ``predict(..., future_covariates=frame)``.
    static_covariates : str, list of str or None, default None
        Numeric columns with one value per series (e.g. a ticker's sector code), fed to the
        head after standardisation across series.
    target_transform : {None, "log", "log1p", "boxcox", "deseasonalize"}, default None
        Fit on transformed targets, per series (Box-Cox: lambda by maximum likelihood on the
        training part; "deseasonalize": divided by seasonal indices of ``season_length``, or
        minus additive ones where a value is ``<= 0``); forecasts and intervals in original
        units. See :mod:`forecast.data.transforms`.
    season_length : int or None, default None
        Steps per season, for ``target_transform="deseasonalize"`` (12 monthly, 4 quarterly).
    id_col, time_col : str or None
        For a long frame (many series): the series id and timestamp columns. A wide frame
        needs neither when it has a ``DatetimeIndex``; nor does a frame with Nixtla's
        columns ``unique_id, ds, y`` (then ``y`` is the target unless ``target`` is given).
    freq : str, pandas.DateOffset or None
        Frequency; inferred when ``None``. Use ``"B"`` (or a ``CustomBusinessDay`` with the
        holidays) for trading days: missing holidays are then the calendar, not an error.
    missing : {"raise", "mask"}, default "raise"
        NaN and missing timestamps: an error, or masked (:mod:`forecast.forecasters._masking`).
    hidden_size, num_layers : int, default 64, 1
    dropout : float, default 0.0
        Between recurrent layers and before the head.
    loss : {"mse", "mae", "huber", "pinball", "mape", "smape"} or None, default None
        Computed on scaled values. None: "mse", or "pinball" with ``quantiles``.
        ``"mape"`` and ``"smape"`` train on errors relative to the actual value, measured in
        the original units whatever the ``scaler`` (MAPE and M3's sMAPE, as fractions; an
        actual's size is floored at a tenth of its input window's level, so zeros do not
        blow up, :class:`~forecast.neural.objectives.RelativeLoss`). With
        ``target_transform="deseasonalize"`` the errors are the same (an index cancels out;
        the floor is in deseasonalised units), or, for an additive season, relative to the
        adjusted value. A MAPE-trained network forecasts lower than an ``"mae"`` one (MAPE penalises
        over-forecasts without bound and under-forecasts by at most 100 %): its MAPE is
        lower, its sMAPE usually higher.
        Not with ``target_transform`` ``"log"``, ``"log1p"`` or ``"boxcox"`` (errors there are
        not relative to the series' values).
    quantiles : list of float or None, default None
        Quantile levels (sorted, distinct, in (0, 1), e.g. ``[0.1, 0.5, 0.9]``): the head
        emits each level for each step and target, trained with the pinball loss; levels
        never cross (by construction, see :class:`~forecast.neural.network.RecurrentRegressor`; the
        scaler's inverse is increasing). ``predict`` adds a column ``f"{target}_q{q:g}"``
        per level (:func:`forecast.quantile_column`); the target's column is the median
        (0.5 is always trained; it gets a column of its own only if listed).
    intervals : {None, "conformal"}, default None
        ``"conformal"``: intervals around the point forecast by split conformal calibration
        on held-out rolling-origin errors per horizon step, then a refit on all data (see
        :mod:`forecast.evaluation.conformal`). Not with ``quantiles``.
    coverage : float, list of float or None, default None
        Coverage of each conformal interval (sorted, in (0, 1)); None is ``[0.8, 0.95]``,
        which gives the columns ``y_q0.025, y_q0.1, y_q0.9, y_q0.975``.
    calibration_windows : int, default 20
        Conformal calibration origins per series, one step apart, in a held-out tail of
        ``calibration_windows + horizon - 1`` rows; errors are pooled over series. A ``c``
        interval needs ``c / (1 - c)`` errors per step (19 for 95 %); more give a steadier width.
    learning_rate : float, default 1e-3
    weight_decay : float, default 0.0
        Adam's L2 penalty.
    lr_schedule : {"constant", "cosine"}, default "constant"
        ``"cosine"``: the learning rate decays from ``learning_rate`` to 0 along a half
        cosine over the training budget (``max_epochs`` epochs, or ``max_steps`` in
        ``trainer_kwargs``), one step per batch: smaller, less noisy updates towards the
        end. Not in :func:`forecast.presets.panel_params`: on M3 monthly it cost 0.2 sMAPE
        (``benchmarks/RESULTS.md``).
    swa_start : float or None, default None
        Stochastic weight averaging (Izmailov et al., 2018): from this fraction in [0, 1)
        of the training budget's optimiser steps on, the weights after every step are
        averaged with equal weight, and the average is the network kept. With validation,
        early stopping judges the average once it has begun, and the final average is kept
        rather than the best epoch's weights (``best_epoch_`` is then None); a run that
        early stopping ends before ``swa_start`` keeps its best epoch, with a warning. The
        fraction is of the whole budget (``max_epochs``, or ``max_steps`` in
        ``trainer_kwargs``), not of the run early stopping makes. ``None``: the weights of
        the last step (or best epoch).
    batch_size : int, default 64
    max_epochs : int, default 100
    validation_size : int or float, default 0.1
        Held-out tail of each series for early stopping and model selection: an int is a
        number of steps, a float in [0, 1) a fraction of each series' length (raised to at
        least ``horizon``). ``0`` trains on everything for ``max_epochs`` epochs.
    drop_short : bool, default False
        Series too short for one training window (plus validation) are an error listing
        them; with ``True`` they are dropped with a warning that lists them.
    partial_horizons : bool, default False
        Also train on windows whose horizon runs past a series' end, those targets masked:
        a series needs ``seq_len + 1`` rows (see :mod:`forecast.forecasters._fit_windows`).
    early_stopping_patience : int or None, default 10
        Epochs without validation improvement before stopping; ``None`` never stops early.
        The weights of the best validation epoch are kept.
    gradient_clip_val : float or None, default 1.0
        Gradient norm clipping (recurrent nets explode without it); ``None`` disables it.
    scaler : {"standard", "minmax", "window", "window_level", "window_diff", None}
        Default "standard".
        ``"standard"``/``"minmax"``: statistics per series and feature, fitted on the training
        part only (not the validation tail). ``"window"``: each input window scaled by its own
        mean and std (suits trending series such as prices). ``"window_level"``: centred on
        the window's mean, divided by its mean absolute level (relative errors; panels of
        series of very different sizes); ``"window_diff"``: divided by its mean absolute
        step (errors weighed as MASE weighs them). See :mod:`forecast.data.scaling`.
    random_state : int, numpy.random.RandomState or None, default None
        Seed of weights, shuffling and dropout. An int gives bitwise-identical forecasts on
        CPU, also in a fresh process. ``None`` draws a seed, stored in ``seed_``.
    trainer_kwargs : dict or None
        Passed to ``lightning.Trainer`` (``accelerator``, ``devices``, ``strategy``,
        ``callbacks``, ``logger``, ``max_steps``, ...); they override our defaults.
    progress_bar : bool, default True
        A progress bar during ``fit``, when stderr is a terminal or in a Jupyter kernel.
    verbose : bool, default False
        Let Lightning print its information (devices, model summary).
    warm_start : bool, default False
        A ``fit`` of a fitted forecaster starts from its weights and scalers, for this fit's
        budget; a fit that does not match it is refused, naming the difference.
    warm_start_shrink : float, default 0.45
        In (0, 1]: a warm fit starts from this share of the fitted weights plus the rest of
        a fresh initialisation; 1.0: them alone. See :mod:`forecast.forecasters._warm_start`.

    Attributes
    ----------
    network_ : RecurrentRegressor
        The trained network (on CPU, in eval mode); a loaded model builds it on first use.
        Forecasts run its weights in NumPy (:mod:`forecast.neural.inference`).
    scaler_ : SeriesScaler
    freq_ : pandas.DateOffset
    target_names_, covariate_names_, future_names_, static_names_ : list of str
        Targets, past, known-future and static covariates.
    feature_names_in_ : numpy.ndarray of str
        Targets, past covariates, known-future covariates: the input features of each
        time step.
    static_ : numpy.ndarray of shape (S, Z) or None
        Static covariates of the series seen at fit.
    missing_columns_ : list of str
        With ``missing="mask"``: the features with an observed channel (missing at fit).
    n_features_in_ : int
    series_ids_ : list
        ``[None]`` for a wide frame.
    cutoffs_ : pandas.DatetimeIndex
        Last timestamp of each series seen at fit.
    last_window_ : numpy.ndarray of shape (S, seq_len, F)
        The last input window of each series, to forecast without new data.
    history_ : pandas.DataFrame
        Per epoch: ``train_loss`` and ``val_loss`` (on scaled values).
    best_epoch_ : int or None
        The epoch whose weights were kept (validation only); None without validation, or
        when ``swa_start`` kept an average.
    seed_ : int
    quantile_levels_ : list of float
        Levels of the quantile columns of ``predict``: ``quantiles``, conformal bounds, ``[]``.
    conformal_quantiles_, conformal_scale_, n_calibration_
        With ``intervals``: the half-width ``(H, T, C)`` of each interval in units of each
        series' scale ``(S, T)`` (mean absolute one-step change), and the calibration
        forecasts per step. See :mod:`forecast.evaluation.conformal`.
    backtest_ : dict, optional
        Not set by ``fit``; a backtest score set here (``{"mae": 1.2}``) is saved with the
        model and shown by :meth:`card`.

    See Also
    --------
    LSTMForecaster, GRUForecaster : this class with another default ``cell``.
    forecast.EnsembleForecaster : the median of several seeds.

    Examples
    --------
    >>> from forecast import LSTMForecaster
    >>> from forecast.datasets import load_stock_prices
    >>> df = load_stock_prices().loc["2016":]
    >>> model = LSTMForecaster(seq_len=20, horizon=5, target="close", freq="B",
    ...                        scaler="window", max_epochs=2, random_state=0,
    ...                        progress_bar=False)
    >>> fc = model.fit(df).predict()
    >>> fc.shape
    (5, 1)
    """

    _saved_attributes: ClassVar[tuple[str, ...]] = (*DATA_ATTRIBUTES, *TRAINING_ATTRIBUTES)

    # Its own fitted attributes (TRAINING_ATTRIBUTES are typed on TrainedForecaster).
    scaler_: SeriesScaler
    static_scaler_: StaticScaler | None
    static_: np.ndarray | None
    last_window_: np.ndarray

    def __init__(
        self,
        *,
        cell: str = "rnn",
        seq_len: int = 24,
        horizon: int = 1,
        target: str | list[str] | None = None,
        past_covariates: str | list[str] | None = None,
        future_covariates: str | list[str] | None = None,
        static_covariates: str | list[str] | None = None,
        target_transform: str | None = None,
        season_length: int | None = None,
        id_col: str | None = None,
        time_col: str | None = None,
        freq: Any = None,
        missing: str = "raise",
        hidden_size: int = 64,
        num_layers: int = 1,
        dropout: float = 0.0,
        loss: str | None = None,
        quantiles: list[float] | None = None,
        intervals: str | None = None,
        coverage: float | list[float] | None = None,
        calibration_windows: int = 20,
        learning_rate: float = 1e-3,
        weight_decay: float = 0.0,
        lr_schedule: str = "constant",
        swa_start: float | None = None,
        batch_size: int = 64,
        max_epochs: int = 100,
        validation_size: int | float = 0.1,
        drop_short: bool = False,
        partial_horizons: bool = False,
        early_stopping_patience: int | None = 10,
        gradient_clip_val: float | None = 1.0,
        scaler: str | None = "standard",
        random_state: Any = None,
        trainer_kwargs: dict[str, Any] | None = None,
        progress_bar: bool = True,
        verbose: bool = False,
        warm_start: bool = False,
        warm_start_shrink: float = 0.45,
    ) -> None:
        self.cell = cell
        self.seq_len = seq_len
        self.horizon = horizon
        self.target = target
        self.past_covariates = past_covariates
        self.future_covariates = future_covariates
        self.static_covariates = static_covariates
        self.target_transform = target_transform
        self.season_length = season_length
        self.id_col = id_col
        self.time_col = time_col
        self.freq = freq
        self.missing = missing
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.dropout = dropout
        self.loss = loss
        self.quantiles = quantiles
        self.intervals = intervals
        self.coverage = coverage
        self.calibration_windows = calibration_windows
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.lr_schedule = lr_schedule
        self.swa_start = swa_start
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.validation_size = validation_size
        self.drop_short = drop_short
        self.partial_horizons = partial_horizons
        self.early_stopping_patience = early_stopping_patience
        self.gradient_clip_val = gradient_clip_val
        self.scaler = scaler
        self.random_state = random_state
        self.trainer_kwargs = trainer_kwargs
        self.progress_bar = progress_bar
        self.verbose = verbose
        self.warm_start = warm_start
        self.warm_start_shrink = warm_start_shrink

    # ------------------------------------------------------------------ parameters

    def _check_params(self) -> None:
        check_option(self, "cell", self.cell, CELLS)
        check_int(self, "seq_len", self.seq_len, low=1)
        check_int(self, "horizon", self.horizon, low=1)
        check_int(self, "hidden_size", self.hidden_size, low=1)
        check_int(self, "num_layers", self.num_layers, low=1)
        check_float(self, "dropout", self.dropout, low=0.0, high=1.0, high_open=True)
        check_loss(self, self.loss, self.quantiles)
        check_relative_loss(self)
        self._check_interval_params()
        check_float(self, "learning_rate", self.learning_rate, low=0.0, low_open=True)
        check_float(self, "weight_decay", self.weight_decay, low=0.0)
        check_option(self, "lr_schedule", self.lr_schedule, LR_SCHEDULES)
        check_float(
            self, "swa_start", self.swa_start, low=0.0, high=1.0, high_open=True, allow_none=True
        )
        check_int(self, "batch_size", self.batch_size, low=1)
        check_int(self, "max_epochs", self.max_epochs, low=1)
        if isinstance(self.validation_size, float):
            check_float(
                self,
                "validation_size",
                self.validation_size,
                low=0.0,
                high=1.0,
                high_open=True,
            )
        else:
            check_int(self, "validation_size", self.validation_size, low=0)
        check_int(
            self, "early_stopping_patience", self.early_stopping_patience, low=1, allow_none=True
        )
        check_float(
            self,
            "gradient_clip_val",
            self.gradient_clip_val,
            low=0.0,
            low_open=True,
            allow_none=True,
        )
        check_option(self, "scaler", self.scaler, SCALERS)
        check_bool(self, "progress_bar", self.progress_bar)
        check_bool(self, "verbose", self.verbose)
        check_bool(self, "drop_short", self.drop_short)
        check_partial_horizons(self)
        check_warm_start_params(self)
        check_seed(self, "random_state", self.random_state)
        if self.trainer_kwargs is not None and not isinstance(self.trainer_kwargs, dict):
            raise InvalidParameterError(
                "The 'trainer_kwargs' parameter of "
                f"{type(self).__name__} must be a dict or None. Got {self.trainer_kwargs!r} "
                "instead."
            )
        self._check_freq()
        self._check_missing()

    def _validation_rows(self, lengths: np.ndarray) -> np.ndarray:
        """Held-out tail length of each series (0 = no validation)."""
        size = self.validation_size
        if isinstance(size, float):
            if size == 0.0:
                return np.zeros_like(lengths)
            return np.maximum(np.ceil(size * lengths).astype(np.int64), self.horizon)
        if 0 < size < self.horizon:
            raise InvalidParameterError(
                f"The 'validation_size' parameter of {type(self).__name__} must be 0 or at "
                f"least horizon={self.horizon} steps (one validation window). Got {size} instead."
            )
        return np.full_like(lengths, size)

    # ------------------------------------------------------------------ hooks: data

    def _covariates(self) -> tuple[str | list[str] | None, str | list[str] | None]:
        return self.future_covariates, self.static_covariates

    def _panel_dtype(self) -> np.dtype:
        return np.dtype(np.float32)  # what the network reads

    def _quantile_levels(self) -> list[float]:
        return [float(q) for q in self.quantiles or []]

    def _select_series(self, panel: Panel) -> Panel:
        """Refuse (or, with ``drop_short``, drop with a warning) series too short to train on."""
        return trainable_series(self, panel, self._validation_rows(panel.lengths))

    # ------------------------------------------------------------------ hooks: fit

    def _fit(self, panel: Panel, layout: Layout) -> None:
        """Train the network on ``panel`` (parameters checked, series selected)."""
        # Imported here, not at the top: forecasting with a fitted or loaded model needs
        # torch only, and Lightning takes seconds to import.
        from torch.utils.data import DataLoader

        from forecast.data.windowing import ShuffledWindowSampler, WindowDataset
        from forecast.neural.module import RecurrentModule
        from forecast.neural.training import fit_module, seeded

        lengths = panel.lengths
        val_rows = self._validation_rows(lengths)
        static_scaler = StaticScaler().fit(panel.static) if panel.static is not None else None

        scaler = SeriesScaler(self.scaler).fit(panel.values, panel.offsets, lengths - val_rows)
        warm = warm_state(self, panel, scaler)  # None: a cold start (see _warm_start.py)
        if warm is not None:
            static_scaler = warm.static_scaler
        # Listed directly, not a mask over all windows (memory); see _fit_windows.
        train_windows, val_windows, train_ends = fit_windows(self, panel.offsets, val_rows)
        self.seed_ = fit_seed(self.random_state)
        masked = None if self.missing == "raise" else _masking.masked_training(panel, self)
        if masked is not None:  # values are missing: imputed inputs, observed channels
            scaler, train_windows, val_windows = masked.scaler, masked.train, masked.val
        values = panel.values if masked is None else masked.values

        n_targets = len(panel.target_names)

        static = None
        if static_scaler is not None and panel.static is not None:
            static = static_scaler.transform(panel.static)

        def loader(windows: WindowIndex, training: bool) -> DataLoader:
            data = WindowDataset(
                values,
                windows,
                seq_len=self.seq_len,
                horizon=self.horizon,
                n_targets=n_targets,
                n_future=len(panel.future_names),
                static=static,
                scaler=scaler,
                target_channels=None if masked is None else masked.target_channels,
                causal_inputs=None
                if masked is None
                else masked.inputs("train" if training else "val"),
                offsets=self.loss in RELATIVE_LOSSES,
                target_ends=train_ends if training else None,
            )
            return DataLoader(
                data,
                batch_size=int(self.batch_size),  # np.int64 is refused
                sampler=ShuffledWindowSampler(data) if training else None,
                collate_fn=WindowDataset.collate,
            )

        with seeded(self.seed_):
            with allocating(self, values.shape[1]):
                module = RecurrentModule(
                    cell=self.cell,
                    input_size=values.shape[1],
                    hidden_size=self.hidden_size,
                    num_layers=self.num_layers,
                    dropout=self.dropout,
                    horizon=self.horizon,
                    n_targets=n_targets,
                    n_future=len(panel.future_names),
                    n_static=len(panel.static_names),
                    loss=resolve_loss(self.loss, self.quantiles),
                    learning_rate=self.learning_rate,
                    weight_decay=self.weight_decay,
                    lr_schedule=self.lr_schedule,
                    quantiles=network_levels(self.quantiles) or None,
                )
            if warm is not None:
                start_from(module.net, warm.weights, self.warm_start_shrink)
            result = fit_module(
                module,
                loader(train_windows, training=True),
                loader(val_windows, training=False) if len(val_windows) else None,
                max_epochs=self.max_epochs,
                early_stopping_patience=self.early_stopping_patience,
                gradient_clip_val=self.gradient_clip_val,
                progress_bar=self.progress_bar,
                verbose=self.verbose,
                trainer_kwargs=self.trainer_kwargs,
                swa_start=self.swa_start,
                hparams={"estimator": {"class": type(self).__name__, **self.get_params()}},
            )

        self.network_ = module.net.to("cpu").eval()
        self.scaler_ = scaler
        self.static_ = panel.static
        self.static_scaler_ = static_scaler
        self.last_window_ = np.ascontiguousarray(last_windows(values, panel.offsets, self.seq_len))
        self.missing_columns_ = [] if masked is None else masked.missing_columns
        self.history_ = pd.DataFrame(result.history, columns=["epoch", "train_loss", "val_loss"])
        self.best_epoch_ = result.best_epoch

    # ------------------------------------------------------------------ hooks: forecast

    def _unservable(self, panel: Panel) -> dict[int, tuple[str, str]]:
        fitted = self.series_ids_ if self.scaler_.is_global else None
        return unservable(panel, self.seq_len, fitted, self.seq_len)

    @property
    def network_(self) -> RecurrentRegressor:
        """The trained network as a torch module (see the class's attributes)."""
        return torch_network(self)

    @network_.setter
    def network_(self, network: RecurrentRegressor) -> None:
        self.__dict__["network_"] = network

    @network_.deleter
    def network_(self) -> None:
        self.__dict__.pop("network_", None)

    def _runner(self, causal: WindowFix | None = None) -> NetworkRunner:
        return NetworkRunner(
            network=numpy_network(self),
            scaler=self.scaler_,
            static_scaler=self.static_scaler_,
            seq_len=self.seq_len,
            horizon=self.horizon,
            future_names=self.future_names_,
            series_ids=self.series_ids_,
            causal_inputs=causal,
        )

    def _split(self, raw: np.ndarray) -> Forecast:
        """A network output as the point forecast (a quantile network's median) and quantiles."""
        levels = self.quantile_levels_ if numpy_network(self).config.n_quantiles else []
        return Forecast(*split_output(raw, levels))

    def _forecast(
        self, panel: Panel, series: np.ndarray, ends: np.ndarray, future: np.ndarray | None
    ) -> Forecast:
        panel, causal = _masking.masked_panel(self, panel, series, ends)  # as at fit
        return self._split(self._runner(causal).at(panel, series, ends, future))

    def _forecast_fitted(self, future: np.ndarray | None) -> Forecast:
        _masking.check_fitted(self)  # a last window without an observed target
        series = np.arange(len(self.series_ids_))
        return self._split(self._runner().windows(self.last_window_, series, future, self.static_))

    # ------------------------------------------------------------------ hooks: model files

    def _fitted_arrays(self) -> dict[str, np.ndarray]:
        """Weights, scaler statistics and last windows."""
        state = {f"network.{k}": v for k, v in numpy_network(self).weights.items()}
        arrays = {
            **state,
            "scaler.loc": self.scaler_.loc_,
            "scaler.scale": self.scaler_.scale_,
            "last_window": self.last_window_,
        }
        if self.static_ is not None and self.static_scaler_ is not None:
            arrays["static"] = self.static_
            arrays["static_scaler.loc"] = self.static_scaler_.loc_
            arrays["static_scaler.scale"] = self.static_scaler_.scale_
        return arrays

    def _fitted_metadata(self) -> dict[str, Any]:
        saved = {"network": numpy_network(self).config.to_dict(), "scaler": self.scaler_.method}
        return {**saved, "missing_columns": self.missing_columns_}

    def _restore_fitted(
        self,
        arrays: dict[str, np.ndarray],
        metadata: dict[str, Any] | None = None,
        members: Sequence[BaseForecaster] = (),
    ) -> None:
        # NumPy weights, checked; the torch module is built from them if asked for.
        self.__dict__["network_"] = restored_network(self, arrays, metadata)
        metadata = metadata or {}  # (restored_network refused a file without one)
        self.scaler_ = _masking.restored_scaler(self, metadata)
        self.scaler_.loc_, self.scaler_.scale_ = arrays["scaler.loc"], arrays["scaler.scale"]
        self.last_window_ = arrays["last_window"]
        self.static_ = arrays.get("static")
        self.static_scaler_ = None
        if self.static_ is not None:
            self.static_scaler_ = StaticScaler()
            self.static_scaler_.loc_ = arrays["static_scaler.loc"]
            self.static_scaler_.scale_ = arrays["static_scaler.scale"]


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _with_defaults(init: Callable[_P, _R], **defaults: Any) -> Callable[_P, _R]:
    """A copy of the keyword-only function ``init`` with other defaults for some parameters.

    ``LSTMForecaster`` is ``RNNForecaster`` with ``cell="lstm"``: its ``__init__`` must list
    every parameter with its default, since scikit-learn reads them from the signature.
    Rather than a third copy of 30 parameters, the class takes a copy of the parent's
    function whose defaults really are different (``__kwdefaults__``, what Python and
    ``inspect.signature`` read); the ParamSpec keeps the parameters visible to type checkers.
    """
    if not isinstance(init, FunctionType):
        raise TypeError(f"{init!r} is not a plain function")
    unknown = set(defaults) - set(init.__kwdefaults__ or {})
    if unknown:
        raise TypeError(f"{init.__qualname__} has no keyword-only parameters {sorted(unknown)}")
    copy = FunctionType(init.__code__, init.__globals__, init.__name__, None, init.__closure__)
    copy.__kwdefaults__ = {**(init.__kwdefaults__ or {}), **defaults}
    copy.__qualname__, copy.__doc__ = init.__qualname__, init.__doc__
    copy.__annotations__ = dict(init.__annotations__)
    return copy


class LSTMForecaster(RNNForecaster):
    """Long short-term memory forecaster: :class:`RNNForecaster` with ``cell="lstm"``.

    LSTM cells (Hochreiter & Schmidhuber, 1997) carry a cell state behind input, forget and
    output gates, so they keep information over long windows: the usual first choice.

    Parameters
    ----------
    cell : {"rnn", "lstm", "gru"}, default "lstm"
        Recurrent cell; ``"lstm"`` unless set otherwise.
    **params
        Every other parameter of :class:`RNNForecaster`, with the same defaults (and the
        same fitted attributes).

    Examples
    --------
    >>> from forecast import LSTMForecaster
    >>> LSTMForecaster(horizon=5).get_params()["cell"]
    'lstm'
    """

    __init__ = _with_defaults(RNNForecaster.__init__, cell="lstm")


class GRUForecaster(RNNForecaster):
    """Gated recurrent unit forecaster: :class:`RNNForecaster` with ``cell="gru"``.

    GRU cells (Cho et al., 2014) gate their hidden state with two gates instead of the
    LSTM's three and no separate cell state: fewer weights, often as accurate.

    Parameters
    ----------
    cell : {"rnn", "lstm", "gru"}, default "gru"
        Recurrent cell; ``"gru"`` unless set otherwise.
    **params
        Every other parameter of :class:`RNNForecaster`, with the same defaults (and the
        same fitted attributes).

    Examples
    --------
    >>> from forecast import GRUForecaster
    >>> GRUForecaster(horizon=5).get_params()["cell"]
    'gru'
    """

    __init__ = _with_defaults(RNNForecaster.__init__, cell="gru")
