"""voiceguide: an offline, hands-free voice guide for home exercise routines."""

__version__ = "0.1.0"
