"""Fakes of the trackers' servers, served over real HTTP on loopback, for tests and benchmarks."""
