"""Annex B (JSON encoding) test cases, TC-B-nn: every message the IUT sends is checked member by member against
the field tables (sender side), and case-changed names, enumeration values and IDs are refused (receiver side)."""
