"""What is read off the world, never written to it: the observer's Table 1 regimes
(``observer``), the Figure 2 KPIs (``kpi``), the outcome registry and its recorder
(``outcomes``, ``records``), the survey's answer rules (``answers``), the simulated survey
instrument (``survey``) and the Enterprise Surveys' graft questions (``enterprise_survey``)."""
