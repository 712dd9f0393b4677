"""``python -m carpentry_kit`` is the ``carpentry`` command."""

from carpentry_kit.cli.main import main

raise SystemExit(main())
