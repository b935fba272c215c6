"""Reads of supervision, one module per feature (R3.1, R4.2, R6.1, R6.3): :mod:`.kpis`, :mod:`.review`,
:mod:`.team`, :mod:`.checks`, :mod:`.audit`; what they share in :mod:`.common`. Callers import the
feature's module (``from supervision.selectors import kpis``); nothing is re-exported here."""
