"""Write the 23 message schemas as files for other JSON Schema tools (the suite derives them from `fields`).

``python -m conformance.messages.export [DIR]`` (default: ``schemas/`` next to this module); a test keeps the
shipped files equal to the derived schemas.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .schema import schema_of
from .tables import MESSAGES


def export(directory: Path) -> list[Path]:
    """Write ``<message>.schema.json`` (the POSTed form, B.6 rule 5) for every message; the written paths."""
    written = []
    for name in sorted(MESSAGES):
        path = directory / f"{name}.schema.json"
        path.write_text(json.dumps(schema_of(name), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    export(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("schemas"))
