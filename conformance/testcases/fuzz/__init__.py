"""Fuzz test cases (TC-F-...): schema-driven, CoAP-level and procedure-sequence fuzzing of an upper-EMA IUT, and
message, CoAP-level and poll-reply fuzzing of a lower-EMA IUT."""
