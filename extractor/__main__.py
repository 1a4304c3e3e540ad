"""``python -m extractor``: the same command as ``extractor``."""

from .cli import main

raise SystemExit(main())
