"""The sample EMA's stimulus control resource, on its own endpoint (interfaces.md section 3).

``POST <control>/stimulus/<action>`` with a JSON object of arguments (or no payload for none) is answered 2.04
with ``{"status": "accepted"|"refused"|"unsupported"|"error", "detail": "..."}``. Other paths get 4.04, other
methods 4.05. Arguments that are not a JSON object give status "error" (interfaces.md: malformed arguments).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

import aiocoap
import aiocoap.interfaces
from aiocoap import Code, Message

from conformance.ema.role import STIMULUS_EXIT

log = logging.getLogger("conformance.ema.control")

Stimulate = Callable[[str, dict], Awaitable[tuple[str, str]]]


class ControlSite(aiocoap.interfaces.Resource):
    """aiocoap site with the single resource family ``/stimulus/<action>``."""

    def __init__(self, stimulate: Stimulate) -> None:
        super().__init__()
        self._stimulate = stimulate

    async def render(self, request: Message) -> Message:
        return await self._answer(request)

    async def needs_blockwise_assembly(self, request: Message) -> bool:
        return False

    async def render_to_pipe(self, pipe) -> None:
        pipe.add_response(await self._answer(pipe.request), is_last=True)

    async def _answer(self, request: Message) -> Message:
        path = tuple(request.opt.uri_path)
        if len(path) != 2 or path[0] != "stimulus":
            return Message(code=Code.NOT_FOUND, payload=b"control resources are /stimulus/<action>")
        if request.code != Code.POST:
            return Message(code=Code.METHOD_NOT_ALLOWED)
        status, detail = await self.run(path[1], request.payload)
        body = json.dumps({"status": status, "detail": detail}).encode()
        return Message(code=Code.CHANGED, payload=body, content_format=50)

    async def run(self, action: str, payload: bytes) -> tuple[str, str]:
        """Parse the arguments and run the action; never raises."""
        try:
            args = json.loads(payload.decode("utf-8")) if payload.strip() else {}
        except (UnicodeDecodeError, ValueError) as exc:
            return "error", f"arguments are not JSON: {exc}"
        if not isinstance(args, dict):
            return "error", "arguments must be a JSON object"
        try:
            status, detail = await self._stimulate(action, args)
        except Exception as exc:  # a failing action is reported, never crashes the EMA
            log.exception("stimulus %s failed", action)
            return "error", f"{action}: internal failure: {type(exc).__name__}: {exc}"
        if status not in STIMULUS_EXIT:
            return "error", f"{action}: role returned unknown status {status!r}"
        log.info("stimulus %s %s -> %s: %s", action, json.dumps(args), status, detail)
        return status, detail
