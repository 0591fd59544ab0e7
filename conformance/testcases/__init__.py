"""The EMAP conformance test cases, one package per IUT role; each case is marked with ``marker.emap_test``."""
