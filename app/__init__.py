"""bjrd-kg: the work highlights of Beijing's district people's congresses as a knowledge graph."""

__version__ = "0.1.0"
