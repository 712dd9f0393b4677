"""``python -m carpentry_kit`` is the ``carpentry`` command."""

from carpentry_kit.cli import main

raise SystemExit(main())
