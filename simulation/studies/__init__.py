"""Studies: many runs of the model read together, each on the shape of :class:`base.Study`
(design -> evaluator tasks -> tables -> summary) and run through :class:`base.Runs` (any
backend, a progress bar, resume after a kill).

Modules: ``base`` (the shape and the runs), ``table1`` (the regime map over P x B, with moved
thresholds and a null model), ``reachability`` (the survey totals a parameter point can
reach), ``dynamics`` (stationarity and the measured burn-in; corruption against audits and s),
``validation`` (out of sample, against published Kazakhstan figures).
"""
