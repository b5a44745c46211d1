"""`python -m nerkit` runs the CLI."""

from nerkit.cli import main

main()
