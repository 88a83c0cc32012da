"""How the server treats requests: limits, extra columns, request logging."""

from __future__ import annotations

from dataclasses import dataclass

from modelworks.exceptions import ConfigError


@dataclass
class ServeOptions:
    """How the server treats requests."""

    ignore_extra: bool = False
    max_body_bytes: int = 16 * 1024**2
    max_rows: int = 100_000
    max_in_flight: int = 32
    retry_after_s: int = 1
    log_requests: str | None = None
    model_ref: str | None = None

    def check(self) -> ServeOptions:
        for name in ("max_body_bytes", "max_rows", "max_in_flight", "retry_after_s"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ConfigError(f"{name} must be a whole number >= 1, got {v!r}")
        return self
