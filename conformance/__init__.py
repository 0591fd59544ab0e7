"""EMAP conformance suite: reference peer, test cases, sample EMA and reports for ISO/IEC 15067-3-31 (CoAP/JSON)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("emap-conformance")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+source"
