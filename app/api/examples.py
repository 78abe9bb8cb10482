"""Examples of the /api answers for the OpenAPI documentation (/docs): real answers, lists cut short.

The examples are data, in ``examples.json`` beside this module (one key per answer, e.g.
``district``, ``matrix_csv``); tests/test_api_docs.py checks that each one still validates
against its response model and agrees with the live answer.
"""

import json
from pathlib import Path
from typing import Any

EXAMPLES: dict[str, Any] = json.loads((Path(__file__).with_name("examples.json")).read_text(encoding="utf-8"))


def example(name: str) -> Any:
    """The example answer called ``name`` (a key of examples.json)."""
    return EXAMPLES[name]
