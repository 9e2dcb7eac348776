"""Tracker connectors: one package per tracker behind the protocol in connectors.base."""
