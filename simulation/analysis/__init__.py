"""Reading a sweep's results: ``analysis`` (summary tables, paired differences, sensitivity
indices, figures: ``statebiz analyze``), ``discovery`` (scenario discovery with PRIM and CART
from EMA Workbench: ``statebiz discover``), ``robust`` (robust policies: regret, targets) and
``ema`` (the EMA Workbench adapter)."""
