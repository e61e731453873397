"""One module per ``python -m sydes_mini`` command (see ``sydes_mini.cli``)."""
