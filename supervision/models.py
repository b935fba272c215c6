"""Supervision and assessment (R6): review desk, dashboards, KPIs, the manager's periodic check."""
