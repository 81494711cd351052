"""The interactive app (``statebiz app``): a Mesa SolaraViz page to run the model and move its
levers, and an explorer page for finished sweeps. Needs the ``app`` extra (solara).

- ``controls``: the cases, the app's model (a thin ``StateBusinessModel`` that takes the
  controls' values) and the controls, built from the parameter registry;
- ``figures``: the matplotlib figures of both pages (plain functions of a model or a table);
- ``pages``: the Solara components and routes (the module the server serves);
- ``serve``: the ``statebiz app`` command (checks its input, runs the server process);
- ``server``: the server process: Solara's app behind a check of the Host and Origin headers, with
  no outbound connection (no version check, telemetry or CDN download).
"""

#: Environment variables through which ``statebiz app`` passes its options to the served pages.
ENV_SCENARIO = "STATEBIZ_APP_SCENARIO"
ENV_RESULTS = "STATEBIZ_APP_RESULTS"
