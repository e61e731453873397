"""Figures of the book: ``model`` (views, masking, reconstructions, attention, losses) and ``results``.

Every function returns a matplotlib ``Figure`` and never calls ``plt.show``.
"""
