"""Property-based fuzzing of an upper-EMA or a lower-EMA IUT (hypothesis): strategies compiled from the message
schemas (``schemagen``, ``strategies``), one-change mutations (``mutations``, ``coapcases``), the answer oracle
(``oracle``), case execution with the liveness probe (``target`` for an upper EMA, ``lowertarget`` for a lower
EMA, push and pull), the hypothesis driver (``runner``), the procedure-sequence state machine (``machine``),
statistics (``stats``) and replay files (``replay``).
"""
