"""PICS/PIXIT profiles (binding 0.5, 0.6): TOML files validated by a Draft-7 JSON Schema, applicability
expressions over their items, and the stimulus adaptor that makes the IUT act (ICS-12)."""

from .applicability import KNOWN_NAMES, applies
from .loader import bundled_dir, bundled_profiles, load_profile, profile_from_data, with_pixit
from .model import Profile, ProfileError, Timing, Transmission
from .stimulus import StimulusAdaptor, StimulusOutcome

__all__ = [
    "KNOWN_NAMES",
    "Profile",
    "ProfileError",
    "StimulusAdaptor",
    "StimulusOutcome",
    "Timing",
    "Transmission",
    "applies",
    "bundled_dir",
    "bundled_profiles",
    "load_profile",
    "profile_from_data",
    "with_pixit",
]
