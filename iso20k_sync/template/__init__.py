"""Plan templates: the YAML model, loading with precise error locations, and semantic checks."""

from .load import bundled_template_ids, load_template, load_template_text, resolve_template
from .model import CostCategory, Dependency, LinkType, Phase, PlanTemplate, Role, TaskTemplate

__all__ = [
    "CostCategory",
    "Dependency",
    "LinkType",
    "Phase",
    "PlanTemplate",
    "Role",
    "TaskTemplate",
    "bundled_template_ids",
    "load_template",
    "load_template_text",
    "resolve_template",
]
