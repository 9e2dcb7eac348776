"""Analytics choices a sponsor may want to change, with the defaults documented in docs/analytics.md."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .earned_value import DEFAULT_EAC, EacMethod


class RagThresholds(BaseModel):
    """When a milestone or the whole plan turns amber or red."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    amber_days: int = Field(
        default=5,
        ge=0,
        description="A milestone forecast late by up to this many working days is amber; later is red",
    )
    spi_t_amber: Decimal = Field(default=Decimal("0.9"), description="Plan SPI(t) below this is amber")
    spi_t_red: Decimal = Field(default=Decimal("0.8"), description="Plan SPI(t) below this is red")
    cpi_amber: Decimal = Field(default=Decimal("0.9"), description="Plan CPI below this is amber")
    cpi_red: Decimal = Field(default=Decimal("0.8"), description="Plan CPI below this is red")

    @model_validator(mode="after")
    def _ordered(self) -> RagThresholds:
        if self.spi_t_red > self.spi_t_amber or self.cpi_red > self.cpi_amber:
            raise ValueError("a red threshold must not be above its amber threshold")
        return self


class AnalyticsSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    eac_method: EacMethod = Field(default=DEFAULT_EAC, description="Headline estimate at completion")
    rag: RagThresholds = RagThresholds()
