"""``python -m leakvault.cli``: the same as the ``leakvault`` command."""

from leakvault.cli import main

main()
