"""Author-year citations and references, as a paper cites: "Chen et al. (2026)", "(Jia et al., 2022)".

A local Sphinx extension (``_config.yml``: ``sphinx.local_extensions``) that registers two styles:

* ``author_year_round`` (``bibtex_reference_style``): sphinxcontrib-bibtex's ``author_year`` citations
  with round brackets instead of square ones;
* ``author_year`` (``bibtex_default_style``): pybtex's ``alpha`` bibliography (``unsrt`` entries sorted
  by author, year, title) labelled as the text cites, "Chen et al., 2026", instead of "CWX+26".
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from pybtex.plugin import register_plugin as register_pybtex_plugin
from pybtex.richtext import Text
from pybtex.style.formatting.alpha import Style as AlphaStyle
from pybtex.style.labels import BaseLabelStyle
from sphinxcontrib.bibtex.plugin import register_plugin as register_bibtex_plugin
from sphinxcontrib.bibtex.style.referencing import BracketStyle
from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle


def round_brackets() -> BracketStyle:
    return BracketStyle(left="(", right=")")


@dataclass
class RoundAuthorYear(AuthorYearReferenceStyle):
    """``{cite:t}`` -> Chen et al. (2026), ``{cite:p}`` -> (Chen et al., 2026)."""
    bracket_parenthetical: BracketStyle = field(default_factory=round_brackets)
    bracket_textual: BracketStyle = field(default_factory=round_brackets)
    bracket_author: BracketStyle = field(default_factory=round_brackets)
    bracket_label: BracketStyle = field(default_factory=round_brackets)
    bracket_year: BracketStyle = field(default_factory=round_brackets)


def author_year(entry) -> str:
    """'Chen et al., 2026' (three or more authors), 'He and Chen, 2022', 'He, 2022'."""
    last = [Text.from_latex(" ".join(p.last_names)).render_as("text") for p in entry.persons.get("author", [])]
    who = f"{last[0]} et al." if len(last) > 2 else " and ".join(last) or entry.key
    return f"{who}, {entry.fields.get('year', 'n.d.')}"


class AuthorYearLabels(BaseLabelStyle):
    """Author-year labels; equal ones get a, b, ... after the year, in sorted order."""

    def format_labels(self, sorted_entries):
        entries = list(sorted_entries)
        labels = [author_year(e) for e in entries]
        repeated, seen = Counter(labels), Counter()
        for label in labels:
            seen[label] += 1
            yield label + (chr(ord("a") + seen[label] - 1) if repeated[label] > 1 else "")


class AuthorYearStyle(AlphaStyle):
    default_label_style = AuthorYearLabels


def setup(app):
    register_bibtex_plugin("sphinxcontrib.bibtex.style.referencing", "author_year_round", RoundAuthorYear)
    register_pybtex_plugin("pybtex.style.formatting", "author_year", AuthorYearStyle)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
