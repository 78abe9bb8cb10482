"""The /api domain: the catalog of answers per graph version, the answers, search, response models and examples."""
