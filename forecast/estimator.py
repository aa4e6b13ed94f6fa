"""``RNNForecaster`` (and ``LSTMForecaster``, ``GRUForecaster``): fit on a DataFrame, predict one.

The estimator checks and converts, then delegates: :mod:`forecast.data` validates the frame,
:mod:`forecast.windowing` makes windows, :mod:`forecast.scaling` scales them,
:mod:`forecast.training` runs Lightning on :class:`~forecast.module.RecurrentModule`.
"""

from __future__ import annotations

import inspect
import warnings
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted
from torch.utils.data import DataLoader

from forecast._covariates import StaticScaler, future_block
from forecast._estimator_params import check_recurrent_params
from forecast._evaluation import holdout_score
from forecast._exceptions import DataError, InvalidParameterError
from forecast._inference import RecurrentInference
from forecast._output import forecast_frame
from forecast._quantiles import network_levels, resolve_loss
from forecast._validation import check_int
from forecast.conformal import fit_with_intervals
from forecast.data import Columns, Panel, to_panel
from forecast.module import RecurrentModule
from forecast.nn import RecurrentRegressor
from forecast.persistence import PersistenceMixin
from forecast.scaling import SeriesScaler
from forecast.training import fit_module, seeded
from forecast.windowing import ShuffledWindowSampler, WindowDataset, WindowIndex, last_windows

__all__ = ["GRUForecaster", "LSTMForecaster", "RNNForecaster"]


class RNNForecaster(PersistenceMixin, RecurrentInference, BaseEstimator):
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
        Column(s) to forecast; ``None`` forecasts every numeric column. Numeric columns that
        are neither targets nor listed below are past covariates (inputs of the window).
    future_covariates : str, list of str or None, default None
        Columns whose values are known ahead (calendar, holidays, planned prices; see
        :func:`forecast.features.calendar_features`). They are inputs of the window, and
        their values over the horizon feed the head. At predict time pass those values as
        ``predict(..., future_covariates=frame)``.
    static_covariates : str, list of str or None, default None
        Numeric columns with one value per series (e.g. a ticker's sector code), fed to the
        head after standardisation across series.
    id_col, time_col : str or None
        For a long frame (many series): the series id and timestamp columns. A wide frame
        needs neither when it has a ``DatetimeIndex``.
    freq : str, pandas.DateOffset or None
        Frequency; inferred when ``None``. Use ``"B"`` (or a ``CustomBusinessDay`` with the
        holidays) for trading days: missing holidays are then the calendar, not an error.
    hidden_size, num_layers : int, default 64, 1
    dropout : float, default 0.0
        Between recurrent layers and before the head.
    loss : {"mse", "mae", "huber", "pinball"} or None, default None
        Computed on scaled values. None: "mse", or "pinball" with ``quantiles``.
    quantiles : list of float or None, default None
        Quantile levels (sorted, distinct, in (0, 1), e.g. ``[0.1, 0.5, 0.9]``): the head
        emits each level for each step and target, trained with the pinball loss; levels
        never cross (by construction, see :class:`~forecast.nn.RecurrentRegressor`; the
        scaler's inverse is increasing). ``predict`` adds a column ``f"{target}_q{q:g}"``
        per level (:func:`forecast.quantile_column`); the target's column is the median
        (0.5 is always trained; it gets a column of its own only if listed).
    intervals : {None, "conformal"}, default None
        ``"conformal"``: intervals around the point forecast by split conformal calibration
        on held-out rolling-origin errors per horizon step, then a refit on all data (see
        :mod:`forecast.conformal`). Not with ``quantiles``.
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
    early_stopping_patience : int or None, default 10
        Epochs without validation improvement before stopping; ``None`` never stops early.
        The weights of the best validation epoch are kept.
    gradient_clip_val : float or None, default 1.0
        Gradient norm clipping (recurrent nets explode without it); ``None`` disables it.
    scaler : {"standard", "minmax", "window", "window_level", None}, default "standard"
        ``"standard"``/``"minmax"``: statistics per series and feature, fitted on the training
        part only (not the validation tail). ``"window"``: each input window scaled by its own
        mean and std (suits trending series such as prices). ``"window_level"``: centred on
        the window's mean, divided by its mean absolute level (relative errors; panels of
        series of very different sizes). See :mod:`forecast.scaling`.
    random_state : int, numpy.random.RandomState or None, default None
        Seed of weights, shuffling and dropout. An int gives bitwise-identical forecasts on
        CPU, also in a fresh process. ``None`` draws a seed, stored in ``seed_``.
    trainer_kwargs : dict or None
        Passed to ``lightning.Trainer`` (``accelerator``, ``devices``, ``strategy``,
        ``callbacks``, ``logger``, ``max_steps``, ...); they override our defaults.
    progress_bar : bool, default True
        Show Lightning's progress bar during ``fit``.
    verbose : bool, default False
        Let Lightning print its information (devices, model summary).

    Attributes
    ----------
    network_ : RecurrentRegressor
        The trained network (on CPU, in eval mode).
    scaler_ : SeriesScaler
    freq_ : pandas.DateOffset
    target_names_, covariate_names_, future_names_, static_names_ : list of str
        Targets, past, known-future and static covariates.
    feature_names_in_ : numpy.ndarray of str
        Targets, past covariates, known-future covariates: the input features of each
        time step.
    static_ : numpy.ndarray of shape (S, Z) or None
        Static covariates of the series seen at fit.
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
        forecasts per step. See :mod:`forecast.conformal`.
    backtest_ : dict, optional
        Not set by ``fit``; a backtest score set here (``{"mae": 1.2}``) is saved with the
        model and shown by :meth:`card`.

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

    def __init__(
        self,
        *,
        cell: str = "rnn",
        seq_len: int = 24,
        horizon: int = 1,
        target: str | list[str] | None = None,
        future_covariates: str | list[str] | None = None,
        static_covariates: str | list[str] | None = None,
        id_col: str | None = None,
        time_col: str | None = None,
        freq: Any = None,
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
        early_stopping_patience: int | None = 10,
        gradient_clip_val: float | None = 1.0,
        scaler: str | None = "standard",
        random_state: Any = None,
        trainer_kwargs: dict[str, Any] | None = None,
        progress_bar: bool = True,
        verbose: bool = False,
    ) -> None:
        self.cell = cell
        self.seq_len = seq_len
        self.horizon = horizon
        self.target = target
        self.future_covariates = future_covariates
        self.static_covariates = static_covariates
        self.id_col = id_col
        self.time_col = time_col
        self.freq = freq
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
        self.early_stopping_patience = early_stopping_patience
        self.gradient_clip_val = gradient_clip_val
        self.scaler = scaler
        self.random_state = random_state
        self.trainer_kwargs = trainer_kwargs
        self.progress_bar = progress_bar
        self.verbose = verbose

    # ------------------------------------------------------------------ parameters

    def _validate_params(self) -> None:
        check_recurrent_params(self)

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

    # ------------------------------------------------------------------ fit

    def fit(self, df: pd.DataFrame, y: None = None) -> RNNForecaster:
        """Validate ``df``, train the network and keep what ``predict`` needs.

        Parameters
        ----------
        df : pandas.DataFrame
            Wide (one series, ``DatetimeIndex`` or ``time_col``) or long (``id_col`` and
            ``time_col``, or a ``MultiIndex (id, time)``).
        y : None
            Ignored; for scikit-learn compatibility.

        Returns
        -------
        self

        Raises
        ------
        InvalidParameterError, DataError, DataTypeError
            Before any training, naming the parameter, or the column, series and timestamp.
        """
        self._validate_params()
        return fit_with_intervals(self, df)  # calls _fit_point once, or twice to calibrate

    def _fit_point(self, df: pd.DataFrame) -> None:
        """Train the network on ``df`` and set the fitted attributes (parameters checked)."""
        panel, layout = to_panel(
            df,
            target=self.target,
            id_col=self.id_col,
            time_col=self.time_col,
            freq=self.freq,
            future=self.future_covariates,
            static=self.static_covariates,
        )
        panel = self._drop_short(panel)
        lengths = panel.lengths
        val_rows = self._validation_rows(lengths)
        static_scaler = StaticScaler().fit(panel.static) if panel.static is not None else None

        scaler = SeriesScaler(self.scaler).fit(panel.values, panel.offsets, lengths - val_rows)
        # Training windows end before each validation tail; validation windows have their
        # targets inside it. Listed directly (no mask over all windows: memory).
        train_windows = WindowIndex.build(
            panel.offsets, self.seq_len, self.horizon, end_margin=val_rows
        )
        val_windows = WindowIndex.build(
            panel.offsets, self.seq_len, self.horizon, first_target=lengths - val_rows
        )

        n_targets = len(panel.target_names)

        def loader(windows: WindowIndex, shuffle: bool) -> DataLoader:
            data = WindowDataset(
                panel.values,
                windows,
                seq_len=self.seq_len,
                horizon=self.horizon,
                n_targets=n_targets,
                n_future=len(panel.future_names),
                static=None if static_scaler is None else static_scaler.transform(panel.static),
                scaler=scaler,
            )
            return DataLoader(
                data,
                batch_size=self.batch_size,
                sampler=ShuffledWindowSampler(data) if shuffle else None,
                collate_fn=WindowDataset.collate,
            )

        self.seed_ = (
            int(self.random_state)
            if isinstance(self.random_state, int | np.integer)
            else int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        )
        with seeded(self.seed_):
            module = RecurrentModule(
                cell=self.cell,
                input_size=panel.values.shape[1],
                hidden_size=self.hidden_size,
                num_layers=self.num_layers,
                dropout=self.dropout,
                horizon=self.horizon,
                n_targets=n_targets,
                n_future=len(panel.future_names),
                n_static=len(panel.static_names),
                loss=resolve_loss(self),
                learning_rate=self.learning_rate,
                weight_decay=self.weight_decay,
                lr_schedule=self.lr_schedule,
                quantiles=network_levels(self.quantiles) or None,
            )
            result = fit_module(
                module,
                loader(train_windows, shuffle=True),
                loader(val_windows, shuffle=False) if len(val_windows) else None,
                max_epochs=self.max_epochs,
                early_stopping_patience=self.early_stopping_patience,
                gradient_clip_val=self.gradient_clip_val,
                progress_bar=self.progress_bar,
                verbose=self.verbose,
                trainer_kwargs=self.trainer_kwargs,
                swa_start=self.swa_start,
            )

        self.network_: RecurrentRegressor = module.net.to("cpu").eval()
        self.scaler_ = scaler
        self.freq_ = panel.freq
        self.layout_ = layout
        self.target_names_ = panel.target_names
        self.covariate_names_ = panel.covariate_names
        self.future_names_ = panel.future_names
        self.static_names_ = panel.static_names
        self.static_ = panel.static
        self.static_scaler_ = static_scaler
        self.feature_names_in_ = np.asarray(panel.feature_names, dtype=object)
        self.n_features_in_ = len(panel.feature_names)
        self.series_ids_ = panel.ids
        self.cutoffs_ = panel.last_times
        self.training_start_ = panel.times[panel.offsets[:-1]]
        self.last_window_ = np.ascontiguousarray(
            last_windows(panel.values, panel.offsets, self.seq_len)
        )
        self.history_ = result.history
        self.best_epoch_ = result.best_epoch

    def _drop_short(self, panel: Panel) -> Panel:
        """Refuse (or, with ``drop_short``, drop with a warning) series too short to train on."""
        lengths = panel.lengths
        val_rows = self._validation_rows(lengths)
        needed = self.seq_len + self.horizon + val_rows
        short = np.flatnonzero(lengths < needed)
        if not short.size:
            return panel
        shown = ", ".join(f"{panel.series_label(i)} has {lengths[i]}" for i in short[:10])
        more = f" (and {short.size - 10} more)" if short.size > 10 else ""
        need = (
            f"one training window needs seq_len + horizon = {self.seq_len + self.horizon} "
            f"rows, plus {int(val_rows[short[0]])} for validation (validation_size="
            f"{self.validation_size!r})"
        )
        if self.drop_short and short.size < panel.n_series:
            warnings.warn(
                f"Dropped {short.size} series too short to train on: {shown}{more}; {need}.",
                UserWarning,
                stacklevel=3,
            )
            return panel.subset(np.setdiff1d(np.arange(panel.n_series), short))
        raise DataError(
            f"Too few rows to train: {shown}{more}, but {need}. Use a shorter seq_len or "
            "horizon, a smaller validation_size, or more history"
            + (
                ", or drop_short=True to leave these series out."
                if panel.ids != [None] and short.size < panel.n_series
                else "."
            )
        )

    # ------------------------------------------------------------------ predict

    def predict(
        self,
        df: pd.DataFrame | None = None,
        *,
        future_covariates: pd.DataFrame | None = None,
        horizon: int | None = None,
    ) -> pd.DataFrame:
        """Forecast the next steps after the end of the training data, or of ``df``.

        All series are forecast together: their last windows go through the network in
        batches, with no loop over series.

        Parameters
        ----------
        df : pandas.DataFrame, optional
            A newer history with the same columns as at fit; the forecast starts after its
            last timestamp (per series). No refit: the fitted network and scaler are used.
        future_covariates : pandas.DataFrame, optional
            Required when the model has known-future covariates: their values at the
            ``self.horizon`` timestamps after each series' end, in the training layout
            (index of timestamps, or ``id_col``/``time_col`` columns or ``MultiIndex``).
        horizon : int, optional
            Steps to return, ``1 <= horizon <= self.horizon``; default all.

        Returns
        -------
        pandas.DataFrame
            Wide input: indexed by the future timestamps, one column per target. Long input:
            columns ``id_col, time_col, *targets``, ``horizon`` rows per series (a
            ``MultiIndex (id, time)`` if the input had one). Each target's column is followed
            by its quantile columns ``f"{target}_q{q:g}"`` at ``quantile_levels_``, if any.

        Raises
        ------
        NotFittedError, DataError
            Before ``fit``; a history with other columns, unknown series or too short.

        Examples
        --------
        >>> from forecast import GRUForecaster
        >>> from forecast.datasets import load_air_passengers
        >>> model = GRUForecaster(seq_len=12, horizon=3, quantiles=[0.1, 0.9], hidden_size=8,
        ...                       max_epochs=2, random_state=0, progress_bar=False)
        >>> model.fit(load_air_passengers()).predict().columns.tolist()
        ['passengers', 'passengers_q0.1', 'passengers_q0.9']
        """
        check_is_fitted(self, "network_")
        steps = self.horizon if horizon is None else horizon
        check_int(self, "horizon", steps, low=1, high=self.horizon)
        panel = None
        if df is None:
            cutoffs, ids = self.cutoffs_, self.series_ids_
        else:
            panel, _ = to_panel(
                df,
                id_col=self.layout_.id_col,
                time_col=self.layout_.time_col,
                freq=self.freq_,
                columns=Columns(
                    targets=self.target_names_,
                    past=self.covariate_names_,
                    future=self.future_names_,
                    static=self.static_names_,
                ),
            )
            cutoffs, ids = panel.last_times, panel.ids
        future = None
        if self.future_names_:
            future = future_block(
                future_covariates,
                self.future_names_,
                self.layout_,
                ids,
                cutoffs,
                self.freq_,
                self.horizon,
            )
        values, quantiles = self._predict_arrays(panel, future)
        return forecast_frame(
            values[:, :steps],
            cutoffs,
            ids,
            layout=self.layout_,
            freq=self.freq_,
            target_names=self.target_names_,
            quantiles=None if quantiles is None else quantiles[:, :steps],
            levels=getattr(self, "quantile_levels_", []),
        )

    def score(self, df: pd.DataFrame, y: None = None) -> float:
        """Negative MASE of a forecast of the last ``horizon`` steps of ``df`` (higher is better).

        Each series of ``df`` is split into a history (all but its last ``horizon`` rows)
        and those last ``horizon`` rows; the fitted model forecasts them from the history
        (as ``predict(history)`` would, without refitting; known-future covariates are read
        from ``df``). The score is minus the MASE (season length 1: the error is divided by
        the mean absolute one-step change of each series' history), averaged over series and
        targets: 0 is perfect, -1 is as good as the naive last-value forecast was in-sample.

        Parameters
        ----------
        df : pandas.DataFrame
            Same columns (and, with a fitted scaler, series) as at fit; each series needs
            ``seq_len + horizon`` rows at least.
        y : None
            Ignored; for scikit-learn compatibility.

        Returns
        -------
        float

        Raises
        ------
        NotFittedError, DataError
            Before ``fit``; a series too short, or with a constant history (MASE undefined).
        """
        check_is_fitted(self, "network_")
        return holdout_score(self, df)


def _forecaster_with_cell(cell: str, name: str, doc_cell: str) -> type[RNNForecaster]:
    """``RNNForecaster`` with another default ``cell``.

    scikit-learn reads parameter names and defaults from ``__init__``'s signature, so the
    subclass carries the parent's signature with only ``cell``'s default changed, instead of
    a third copy of every parameter.
    """

    def __init__(self: RNNForecaster, **params: Any) -> None:
        params.setdefault("cell", cell)
        RNNForecaster.__init__(self, **params)

    signature = inspect.signature(RNNForecaster.__init__)
    __init__.__signature__ = signature.replace(
        parameters=[
            p.replace(default=cell) if p.name == "cell" else p
            for p in signature.parameters.values()
        ]
    )
    doc = (
        (RNNForecaster.__doc__ or "")
        .replace(
            "Recurrent-network forecaster",
            f"{doc_cell} forecaster ({name} is RNNForecaster with cell={cell!r})",
            1,
        )
        .replace('default "rnn"', f'default "{cell}"', 1)
    )
    return type(
        name, (RNNForecaster,), {"__init__": __init__, "__doc__": doc, "__module__": __name__}
    )


LSTMForecaster = _forecaster_with_cell("lstm", "LSTMForecaster", "LSTM")
GRUForecaster = _forecaster_with_cell("gru", "GRUForecaster", "GRU")
