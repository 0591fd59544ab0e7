"""One-line errors of the ``emap-conformance`` command: bad input ends the command with exit status 2."""

from __future__ import annotations

import argparse
import sys

PROG = "emap-conformance"
EXIT_UNJUDGED = 2


class CliError(Exception):
    """Bad input to a command; ``str()`` is the one line shown to the user."""


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr and exit status 2."""

    def error(self, message: str):
        raise CliError(message)


def report(error: CliError) -> int:
    print(f"{PROG}: error: {error}", file=sys.stderr)
    return EXIT_UNJUDGED


def number(kind, minimum):
    """An argparse type: ``kind`` (int or float) not below ``minimum``, with a one-line error otherwise."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a{'n integer' if kind is int else ' number'}") from None
        if value != value or value < minimum:
            raise argparse.ArgumentTypeError(f"{text!r} must be >= {minimum}")
        return value

    return parse
