"""One module per ODD submodel; each exposes ``step(model, log)`` and runs vectorised."""
