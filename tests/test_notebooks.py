"""Chapter notebooks: .ipynb and .py twins in sync, a parameters cell, a Colab cell that matches _config.yml.

(nbval runs the chapters themselves: pytest collects notebooks/*.ipynb, see pyproject.toml.)
"""
import re
from pathlib import Path

import jupytext
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MINE = ["01_overview", "02_data", "03_views", "04_encoders", "05_image_decoder", "06_text_decoder", "07_losses"]


def cells(path: Path) -> list[tuple[str, str, list]]:
    """(type, source, tags) of every cell, as jupytext reads the file."""
    nb = jupytext.read(path)
    return [(c.cell_type, c.source.strip(), sorted(c.metadata.get("tags", []))) for c in nb.cells]


def repository_url() -> str:
    return yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]


def test_chapters_exist():
    names = [p.stem for p in CHAPTERS]
    assert [m for m in MINE if m not in names] == []


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda p: p.stem)
def test_twins_in_sync(notebook):
    twin = notebook.with_suffix(".py")
    assert twin.is_file(), f"{twin} is missing: run `jupytext --sync {notebook}`"
    assert cells(notebook) == cells(twin), f"{notebook.name} and {twin.name} differ: run `jupytext --sync {twin}`"


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda p: p.stem)
def test_parameters_cell(notebook):
    tagged = [src for kind, src, tags in cells(notebook) if kind == "code" and "parameters" in tags]
    assert len(tagged) == 1, f"{notebook.name} needs exactly one code cell tagged 'parameters'"
    assert re.search(r'^profile = "smoke"', tagged[0], re.M), "the stored outputs come from the smoke profile"


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda p: p.stem)
def test_colab_cell_installs_from_the_configured_repository(notebook):
    first_code = next(src for kind, src, _ in cells(notebook) if kind == "code")
    url = re.search(r'^REPO_URL = "([^"]+)"', first_code, re.M)
    assert url, f"{notebook.name}: the first code cell must be the Colab set-up cell with REPO_URL"
    assert url.group(1) == repository_url(), f"{notebook.name}: REPO_URL differs from _config.yml repository.url"
    assert 'if "google.colab" in sys.modules:' in first_code, "install only when running on Colab"
    assert "torch" not in first_code.split("pip")[1], "never reinstall Colab's torch"
    # one set-up cell for the whole book: the clone makes ../runs, ../data and ../book resolve on Colab
    first_of_book = next(src for kind, src, _ in cells(CHAPTERS[0]) if kind == "code")
    assert first_code == first_of_book, f"{notebook.name}: its Colab cell differs from {CHAPTERS[0].name}'s"
    assert 'os.chdir(os.path.join(home, "notebooks"))' in first_code, "work in the clone's notebooks/ folder"


@pytest.mark.parametrize("name", MINE)
def test_model_chapters_read_in_the_books_order(name):
    """Paper sentence -> equation -> the package function -> a checked value -> a figure -> summary, exercises."""
    text = "\n".join(src for _, src, _ in cells(ROOT / "notebooks" / f"{name}.ipynb"))
    steps = ["\n> ", "$$", "inspect.getsource(", "# NBVAL_CHECK_OUTPUT", "{glue:figure}", "## Summary", "## Exercises"]
    positions = [text.find(step) for step in steps]
    if positions[1] == -1:                        # a tagged multi-line equation is an equation* environment
        positions[1] = text.find("\\begin{equation*}")
    assert -1 not in positions, f"{name} lacks {[s for s, p in zip(steps, positions) if p == -1]}"
    assert positions[0] < positions[1] and positions[-2] < positions[-1], f"{name}: quote first, exercises last"
    assert "Section" in text[positions[0]:text.find("\n\n", positions[0])], f"{name}: cite the paper's section"


@pytest.mark.parametrize("notebook", CHAPTERS + sorted((ROOT / "notebooks" / "runs").glob("*.ipynb")),
                         ids=lambda p: p.stem)
def test_papermill_reads_every_parameter(notebook):
    """papermill skips a parameter line with a second '=' (e.g. in its comment) and then calls `-p` unknown."""
    import papermill
    tagged = next(src for kind, src, tags in cells(notebook) if kind == "code" and "parameters" in tags)
    names = [line.split("=")[0].strip() for line in tagged.splitlines() if "=" in line and not line.startswith("#")]
    assert sorted(papermill.inspect_notebook(str(notebook))) == sorted(names)


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda p: p.stem)
def test_every_exercise_has_a_hint_and_a_solution_and_one_is_code(notebook):
    all_cells = cells(notebook)
    start = next(i for i, (_, src, _) in enumerate(all_cells) if "## Exercises" in src)
    text = "\n".join(src for _, src, _ in all_cells[start:])
    numbers = re.findall(r"\*\*Exercise (\d+)\.\*\*", text)
    assert numbers, f"{notebook.name}: no exercises"
    for n in numbers:
        block = text.split(f"**Exercise {n}.**")[1].split("**Exercise ")[0]
        assert "````{dropdown} Hint" in block, f"{notebook.name}: exercise {n} has no hint"
        assert f"````{{dropdown}} Solution to exercise {n}" in block, f"{notebook.name}: exercise {n} has no solution"
    code = [src for kind, src, _ in all_cells[start:] if kind == "code" and src.startswith("# Exercise")]
    assert code, f"{notebook.name}: at least one exercise is code the reader completes"


# Sentences that state what a trained model does: they must come from the numbers (glue), never be typed.
CLAIMS = ("learns the toy world", "reads the corner", "reads the glyph", "the model reads", "does not learn",
          "mostly not", "hardly the desire")
TYPED_RESULT = re.compile(r"\b\d{1,3}\.\d+ ?%")      # "67.6 %": a measured percentage typed into the text


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda p: p.stem)
def test_results_are_computed_not_typed(notebook):
    """Markdown may quote the paper (lines starting with '>'), but a measured result in the book's own words is
    a {glue:text} role or a computed sentence, so that no page claims what its numbers do not show."""
    for kind, source, _ in cells(notebook):
        if kind != "markdown":
            continue
        for line in source.splitlines():
            if line.lstrip().startswith(">"):
                continue
            assert not TYPED_RESULT.search(line), f"{notebook.name}: typed result in {line!r}; glue it"
            found = [c for c in CLAIMS if c in line.lower()]
            assert not found, f"{notebook.name}: {found} claims a result in {line!r}; compute it from the run"
