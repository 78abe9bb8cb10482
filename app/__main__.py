"""`python -m app` is the `kg` command."""

from app.cli import main

raise SystemExit(main())
