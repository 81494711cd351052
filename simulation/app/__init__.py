"""The interactive app (``statebiz app``): a Solara page to run the model and move its levers,
a page that runs it at two values of s side by side, and an explorer page for finished sweeps.
Needs the ``app`` extra (solara; Mesa's input widgets).

- ``controls``: the cases, the app's model (a thin ``StateBusinessModel`` that takes the
  controls' values, runs the burn-in behind a progress callback and keeps its last quarters as
  history) and the controls, built from the parameter registry; stationary states cached;
- ``pair``: the comparison page's models (the same controls at s_a and s_b, per seed) and
  their paired differences;
- ``figures``, ``pair_figures``: the matplotlib figures of the pages (a ``setup`` and a
  ``fill`` function per live figure; plain functions for the others);
- ``live``: figures built once and refilled each quarter, rendered on their own canvas;
- ``runner``: building behind a progress bar, Reset / Play / Step, shared by both run pages;
- ``pages``: the Solara components and routes (the module the server serves);
- ``serve``: the ``statebiz app`` command (checks its input, runs the server process);
- ``server``: the server process: Solara's app behind a check of the Host and Origin headers, with
  no outbound connection (no version check, telemetry or CDN download).
"""

#: Environment variables through which ``statebiz app`` passes its options to the served pages.
ENV_SCENARIO = "STATEBIZ_APP_SCENARIO"
ENV_RESULTS = "STATEBIZ_APP_RESULTS"
