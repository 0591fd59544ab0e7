"""Self-validation of the conformance suite against the sample EMA: the mutation score of the mutant zoo
(``conformance.ema.mutants``) and the flake check. Entry point: ``python -m conformance.selfcheck``."""
