"""`python -m dumper` runs the CLI."""

from dumper.cli import main

raise SystemExit(main())
