"""The ``carpentry`` command: one module per command group, one error handler, shared option builders."""
