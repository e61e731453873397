"""The Jupyter Book builds from the stored chapter outputs (no execution), warnings as errors,
and every page of the table of contents is there without error output."""
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def toc_files() -> list[str]:
    """Every page named in _toc.yml (the root first), without suffix."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [entry["file"] for entry in part["chapters"]]
    return files


def test_toc_lists_every_chapter_and_each_page_exists():
    files = toc_files()
    chapters = sorted(p.relative_to(ROOT).with_suffix("").as_posix() for p in ROOT.glob("notebooks/[0-9][0-9]_*.ipynb"))
    assert [c for c in chapters if c not in files] == [], "chapters missing from _toc.yml"
    missing = [f for f in files if not any((ROOT / f).with_suffix(s).is_file() for s in (".md", ".ipynb"))]
    assert missing == [], f"_toc.yml names pages that do not exist: {missing}"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("book")
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    config["execute"]["execute_notebooks"] = "off"              # use the stored outputs
    extensions = config["sphinx"]["local_extensions"]           # relative to the config file's folder
    config["sphinx"]["local_extensions"] = {name: str(ROOT / path) for name, path in extensions.items()}
    (out / "_config.yml").write_text(yaml.safe_dump(config))
    jb = Path(sys.executable).with_name("jupyter-book")
    run = subprocess.run([str(jb), "build", str(ROOT), "-W", "-n", "--keep-going", "--config", str(out / "_config.yml"),
                          "--path-output", str(out)], capture_output=True, text=True)
    assert run.returncode == 0, f"book build failed:\n{run.stdout[-4000:]}\n{run.stderr[-4000:]}"
    return out / "_build" / "html"


def test_every_page_is_built_without_errors(built):
    for page in toc_files():
        html = built / f"{page}.html"
        assert html.is_file(), f"{page} was not built"
        text = html.read_text()
        for bad in ("Traceback", "output traceback", "output error"):
            assert bad not in text, f"{page}.html contains {bad!r}"


def test_citations_and_references_are_author_year(built):
    def text(page):                                   # the page's words, tags removed
        return re.sub(r"<[^>]+>", "", (built / f"{page}.html").read_text())
    intro, references = text("book/intro"), text("book/bibliography")
    assert "dataset (Jia et al., 2022)." in intro                              # {cite:p}
    assert "reference list of Chen et al. (2026)" in references                # {cite:t}
    for label in ("Aziz et al., 2025", "Chen et al., 2026", "Jia et al., 2022", "Yu et al., 2022"):
        assert f"[{label}]" in references, label                               # book/_ext/author_year.py
    assert "CWX+26" not in references                                          # pybtex's alpha labels


def test_chapters_have_a_colab_button(built):
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    colab = "https://colab.research.google.com/github/" + url.removeprefix("https://github.com/")
    for page in toc_files():
        if page.startswith("notebooks/"):
            assert f"{colab}/blob/main/{page}.ipynb" in (built / f"{page}.html").read_text(), page


def test_readme_has_the_two_setup_commands_and_the_hardware_ladder():
    readme = (ROOT / "README.md").read_text()
    setup = readme.split("## Set up", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    assert [line.split("#")[0].strip() for line in setup.strip().splitlines()] == ["make book", "make test"]
    ladder = readme.split("## The hardware ladder", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in ladder.splitlines() if line.startswith("| a ") or line.startswith("| Colab")]
    assert [r.split("|")[1].strip() for r in rows] == ["a GPU", "Colab", "a laptop CPU"]
    assert "make reproduce PROFILE=full" in rows[0] and "make book" in rows[2]
    assert "research use only" in readme and "never shipped" in readme and "MIT" in readme
    assert "_TIME" not in readme and "SMOKE_F1" not in readme, "README still has a placeholder"
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci


def test_no_display_math_puts_a_tag_where_sphinx_wraps_it_in_split():
    """Sphinx wraps a $$ block containing \\\\ in \\begin{split}, where MathJax refuses \\tag and shows raw TeX;
    such equations use \\begin{equation*} ... \\tag{n} \\end{equation*} (myst amsmath, not numbered again by Sphinx)."""
    import re
    pages = sorted(ROOT.glob("notebooks/[0-9][0-9]_*.py")) + sorted(ROOT.glob("book/*.md"))
    bad = [f"{p.name}:{p.read_text()[:m.start()].count(chr(10)) + 1}" for p in pages
           for m in re.finditer(r"\$\$(.*?)\$\$", p.read_text(), re.S)
           if "\\\\" in m.group(1) and "\\tag" in m.group(1)]
    assert bad == []


def test_exercises_fold_their_hints_and_solutions_and_chapters_link_the_notation_page(built):
    for page in toc_files():
        if page.startswith("notebooks/"):
            html = (built / f"{page}.html").read_text()
            assert "sd-dropdown" in html and "<details" in html, f"{page}: hints and solutions are not folded"
            assert page.endswith("12_notation") or 'href="12_notation.html"' in html, \
                f"{page} does not link the notation page"
