"""casework: case management for sextortion and image-based abuse cases."""

from casework.app import create_app

__all__ = ["create_app"]
