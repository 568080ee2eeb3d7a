"""The version of this distribution: the one place it is set."""

__version__ = '0.1.0'
