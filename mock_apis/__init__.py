"""Mock financial back-end: data model, seeded replica, tool catalogue, FastAPI service."""

from importlib.metadata import PackageNotFoundError, version


def package_version(fallback: str) -> str:
    """The installed advisorgym's version, or ``fallback`` when it runs from a source tree."""
    try:
        return version("advisorgym")
    except PackageNotFoundError:
        return fallback
