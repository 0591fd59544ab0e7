"""Property-based fuzzing of an upper-EMA IUT (hypothesis): strategies compiled from the message schemas
(``schemagen``, ``strategies``), one-change mutations (``mutations``, ``coapcases``), the answer oracle
(``oracle``), case execution with the liveness probe (``target``), the hypothesis driver (``runner``), the
procedure-sequence state machine (``machine``), statistics (``stats``) and replay files (``replay``).
"""
