"""Sealtrail: a tamper-evident audit log for SaaS products."""

__version__ = "0.1.0"

__all__ = ["__version__"]
