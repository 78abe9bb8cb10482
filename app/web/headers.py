"""Security headers: every response gets ``X-Content-Type-Options: nosniff`` and a referrer
policy; HTML pages also get a Content-Security-Policy and may not be framed.

The policy allows scripts, styles, fonts and images from this origin only (the vendored YASGUI,
Cytoscape and Swagger UI are served from /static), requests to this origin only, no plugins, no
framing (``frame-ancestors 'none'``, and ``X-Frame-Options: DENY`` for old browsers). Inline
scripts are allowed by their SHA-256 hash, computed per page from the page itself (the one the
API docs page needs); inline style attributes are allowed because the query editor sets them.
(ASGI plumbing: belongs with the other middleware under app/web/ once that package exists.)
"""

import base64
import hashlib
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

ALWAYS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
POLICY = ("default-src 'self'; script-src 'self'{hashes}; style-src 'self' 'unsafe-inline'; "
          "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
          "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
# Our own pages' inline <script> blocks (not user input): their hashes go into the policy.
_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)(?P<attrs>[^>]*)>(?P<body>.*?)</script>",
                            re.DOTALL | re.IGNORECASE)


def policy_for(html: bytes) -> str:
    hashes = []
    for match in _INLINE_SCRIPT.finditer(html):
        if b"application/json" in match.group("attrs"):  # a data block, never executed
            continue
        digest = base64.b64encode(hashlib.sha256(match.group("body")).digest()).decode()
        hashes.append(f" 'sha256-{digest}'")
    return POLICY.format(hashes="".join(sorted(set(hashes))))


_OWN = frozenset(name for name, _ in ALWAYS)


class SecurityHeaders:
    """ASGI middleware adding the headers above (HTML bodies are buffered to hash their scripts)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def wrapped(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in _OWN]
                message = {**message, "headers": headers + ALWAYS}
                content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if content_type.startswith(b"text/html"):
                    start = message
                    return
                await send(message)
            elif message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                body = b"".join(chunks)
                extra = [(b"content-security-policy", policy_for(body).encode()), (b"x-frame-options", b"DENY")]
                await send({**start, "headers": list(start["headers"]) + extra})
                await send({"type": "http.response.body", "body": body})
            else:
                await send(message)

        await self.app(scope, receive, wrapped)
