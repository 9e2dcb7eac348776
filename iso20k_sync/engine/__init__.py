"""Orchestration: the only place that touches the store, the connectors and the analytics together."""
