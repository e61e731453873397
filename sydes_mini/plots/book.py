"""``glue``: numbers and figures from a chapter's run, placed in its text by the book.

Inside the book's tool chain this is ``myst_nb.glue``; where myst-nb is not
installed (e.g. a chapter opened on Colab) the value is simply displayed.
"""
from __future__ import annotations

from IPython.display import display as _display

try:
    from myst_nb import glue as _glue
except ImportError:  # Colab and plain Jupyter: no book tools needed to run a chapter
    _glue = None


def glue(name: str, value, display: bool = True) -> None:
    """Store ``value`` under ``name`` for ``{glue:}`name``` in the page (shown in the notebook if ``display``)."""
    if _glue is not None:
        _glue(name, value, display=display)
    elif display:
        _display(value)
