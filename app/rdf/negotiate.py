"""Content negotiation: Accept header (q-values, ``type/*``, ``*/*``, ``q=0``) -> a Format.

The first format of ``offered`` is the default for an empty Accept or ``*/*``. Ties in q
are broken by specificity (``text/turtle`` over ``text/*`` over ``*/*``), then by the order
the client listed them, then by our order.

Bounded work whatever the header: the first :data:`MAX_RANGES` media ranges are read (the rest
ignored: no client lists that many), and of each range its first :data:`MAX_RANGE_PARAMS`
parameters. The header itself is the request's one view of it (app/web/request_view.py: repeated
lines joined in order), never a line picked by the caller.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from app.errors import NotAcceptable
from app.rdf.formats import Format

#: Media ranges read of one Accept header (or Accept-Encoding); the rest is ignored.
MAX_RANGES = 64
#: Parameters read of one media range (``q`` among them).
MAX_RANGE_PARAMS = 8


@dataclass(frozen=True)
class MediaRange:
    type: str
    subtype: str
    q: float
    order: int

    def matches(self, media_type: str) -> int:
        """Specificity of the match (3 exact, 2 type/*, 1 */*), 0 for no match."""
        main, _, sub = media_type.partition("/")
        if self.type == "*" and self.subtype == "*":
            return 1
        if self.type == main and self.subtype == "*":
            return 2
        if self.type == main and self.subtype == sub:
            return 3
        return 0


def quality(params: list[str]) -> float:
    """The ``q`` of a header element's parameters (1 when absent, 0 when malformed), in [0, 1]."""
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                return max(0.0, min(1.0, float(value)))
            except ValueError:
                return 0.0
    return 1.0


def bounded_split(text: str, separator: str, most: int) -> list[str]:
    """The first ``most`` pieces of ``text`` split at ``separator`` (the rest is not even split)."""
    return text.split(separator, most)[:most]


def parse_accept(header: str | None) -> list[MediaRange]:
    ranges = []
    for order, part in enumerate(bounded_split(header or "", ",", MAX_RANGES)):
        fields = [f.strip() for f in bounded_split(part, ";", MAX_RANGE_PARAMS + 1)]
        media = fields[0].lower()
        if not media:
            continue
        if media == "*":
            media = "*/*"
        if "/" not in media:
            continue
        q = quality(fields[1:])
        main, _, sub = media.partition("/")
        ranges.append(MediaRange(main, sub, q, order))
    return ranges


def negotiate(accept: str | None, offered: Sequence[Format]) -> Format:
    """The best offered format for ``accept``; raises NotAcceptable naming what is offered."""
    ranges = parse_accept(accept)
    if not ranges:
        return offered[0]
    best: tuple[float, int, int, int, int] | None = None
    chosen: Format | None = None
    for position, fmt in enumerate(offered):
        candidates = [fmt.media_type]
        candidates += [a for a in fmt.aliases if "/" in a]
        for media_type in candidates:
            # The most specific range that matches decides this type's q (RFC 9110 §12.5.1).
            matching = [(r.matches(media_type), r) for r in ranges if r.matches(media_type)]
            if not matching:
                continue
            specificity, r = max(matching, key=lambda m: (m[0], -m[1].order))
            if r.q <= 0:
                continue
            exact = media_type == fmt.media_type
            key = (r.q, specificity, -r.order if specificity > 1 else 0, int(exact), -position)
            if best is None or key > best:
                best, chosen = key, fmt
    if chosen is None:
        supported = ", ".join(f.media_type for f in offered)
        raise NotAcceptable(f"None of the requested media types is available here. Supported: {supported}")
    return chosen
