"""The networks and their training: torch and Lightning only, no pandas.

* :mod:`~forecast.neural.network`: ``RecurrentRegressor``, the ``nn.Module`` (an RNN, LSTM or
  GRU encoder and a last-time-step head that emits the whole horizon), and its config;
* :mod:`~forecast.neural.objectives`: the losses (pinball for quantiles) and learning-rate
  schedules, by name;
* :mod:`~forecast.neural.quantiles`: which levels a quantile network learns, and its output
  split into the point forecast and the quantiles;
* :mod:`~forecast.neural.module`: ``RecurrentModule``, the ``LightningModule``;
* :mod:`~forecast.neural.lightning_internals`: every Lightning internal we rely on;
* :mod:`~forecast.neural.training`: the ``lightning.Trainer`` set-up of a fit, and seeding;
* :mod:`~forecast.neural.averaging`, :mod:`~forecast.neural.progress`: its callbacks.
"""
