"""Security headers: every response gets ``X-Content-Type-Options: nosniff`` and a referrer
policy; HTML pages also get a Content-Security-Policy and may not be framed.

The policy allows scripts, styles, fonts and images from this origin only (the vendored YASGUI,
Cytoscape and Swagger UI are served from /static), requests to this origin only, no plugins, no
framing (``frame-ancestors 'none'``, and ``X-Frame-Options: DENY`` for old browsers).

No inline script runs: ``script-src 'self'`` names neither ``'unsafe-inline'`` nor a hash nor a
nonce. Every page's code is a file under /static/js; what a page hands its script travels as a
``<script type="application/json">`` data block, which the browser never executes. (The policy
used to name the hash of every inline script found in the page, computed from the page itself, so
a script injected into a page would have been trusted too.) Static files rather than per-response
nonces because pages are stored answers and entity pages are rendered once per graph version
(app/web/caching.py, ``graph.memo``): a nonce baked into a stored page would be the same for
every reader, which is no nonce at all. Inline style attributes are allowed because the query
editor sets them.
(ASGI plumbing: belongs with the other middleware under app/web/ once that package exists.)
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

ALWAYS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
          "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
          "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
HTML_ONLY = [(b"content-security-policy", POLICY.encode()), (b"x-frame-options", b"DENY")]

_OWN = frozenset(name for name, _ in ALWAYS + HTML_ONLY)


class SecurityHeaders:
    """ASGI middleware adding the headers above (the policy is the same for every page: nothing is buffered)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in _OWN]
                content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                extra = HTML_ONLY if content_type.startswith(b"text/html") else []
                message = {**message, "headers": headers + ALWAYS + extra}
            await send(message)

        await self.app(scope, receive, wrapped)
