"""Built-in check types. Each registers through the ``gonogo.checks`` entry-point group."""
