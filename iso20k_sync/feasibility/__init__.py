"""The feasibility scheme that comes before the plan: management basis, benefits, three-year costs, advice."""

from .profile import OrganisationProfile, load_profile
from .report import FeasibilityReport, feasibility

__all__ = ["FeasibilityReport", "OrganisationProfile", "feasibility", "load_profile"]
