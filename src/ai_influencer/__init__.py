"""Compatibility facades for the seed's module paths; the implementation lives in ``realvoice``."""
