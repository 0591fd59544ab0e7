"""``python -m conformance.ema.mutants NAME [--] EMA_ARGS...`` or ``python -m conformance.ema.mutants list``."""

from __future__ import annotations

import sys

from conformance.ema.mutants.registry import MutantError, all_mutants, get

USAGE = "usage: python -m conformance.ema.mutants (list | NAME [--] EMA_ARGS...)"


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE, file=sys.stderr if not argv else sys.stdout)
        return 2 if not argv else 0
    if argv[0] == "list":
        for m in all_mutants():
            print(f"{m.name:38} {','.join(m.profiles):24} {' '.join(m.requirements):30} {m.summary}")
        return 0
    name, ema_args = argv[0], argv[1:]
    if ema_args[:1] == ["--"]:
        ema_args = ema_args[1:]
    try:
        chosen = get(name)
    except MutantError as exc:
        print(f"mutants: {exc}", file=sys.stderr)
        return 2
    chosen.apply()
    from conformance.ema.main import run

    print(f"mutants: sample EMA runs with mutant {chosen.name} ({chosen.summary})", file=sys.stderr, flush=True)
    return run(ema_args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
