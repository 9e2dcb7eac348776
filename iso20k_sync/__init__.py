"""iso20k-sync: ISO/IEC 20000-1 certification plans, schedules, budgets and tracker sync."""

__version__ = "0.1.0"
