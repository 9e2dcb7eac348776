"""Renderings of an instantiated plan: JSON, terminal tables, Excel workbook, Microsoft Project XML."""
