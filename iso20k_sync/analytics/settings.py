"""Analytics choices a sponsor may want to change, with the defaults documented in docs/analytics.md."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .earned_value import DEFAULT_EAC, EacMethod


class RagThresholds(BaseModel):
    """When a milestone or the whole plan turns amber or red."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    green_days: int = Field(
        default=0,
        ge=0,
        description="A milestone late (forecast, reached or past due) by up to this many working days stays "
        "green",
    )
    amber_days: int = Field(
        default=5,
        ge=0,
        description="A milestone late by more than green_days and up to this many working days is amber; "
        "later is red",
    )
    spi_t_amber: Decimal = Field(default=Decimal("0.9"), description="Plan SPI(t) below this is amber")
    spi_t_red: Decimal = Field(default=Decimal("0.8"), description="Plan SPI(t) below this is red")
    spi_t_min_share: Decimal = Field(
        default=Decimal("0.1"),
        ge=0,
        le=1,
        description="SPI(t) counts in the plan's RAG once AT has reached this share of PD",
    )
    cpi_amber: Decimal = Field(default=Decimal("0.9"), description="Plan CPI below this is amber")
    cpi_red: Decimal = Field(default=Decimal("0.8"), description="Plan CPI below this is red")

    @model_validator(mode="after")
    def _ordered(self) -> RagThresholds:
        if self.spi_t_red > self.spi_t_amber or self.cpi_red > self.cpi_amber:
            raise ValueError("a red threshold must not be above its amber threshold")
        if self.green_days > self.amber_days:
            raise ValueError("green_days must not be above amber_days")
        return self


class AnalyticsSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    eac_method: EacMethod = Field(default=DEFAULT_EAC, description="Headline estimate at completion")
    rag: RagThresholds = RagThresholds()
    stage_gap_days: int = Field(
        default=60,
        ge=1,
        description="A wait of at least this many working days with no task running ends a stage",
    )
