"""Tracker connectors, one package per tracker behind one small protocol (arrives with the sync engine)."""
