"""``python -m mltui``: the same as the ``mltui`` command."""

from .cli import main

main()
