"""The annotated example files shipped with the package: the service configuration (every option and its
default) and the organisation profile. ``iso20k-sync config example`` and ``iso20k-sync config
organisation-example`` write them out; config/ in the repository links to them."""

from __future__ import annotations

from importlib.resources import files

SERVICE = "example.yaml"
ORGANISATION = "organisation.example.yaml"


def example_text(name: str) -> str:
    return files(__name__).joinpath(name).read_text(encoding="utf-8")
