# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Reproduction: the results tables
#
# Reads every `summary.json` under `runs_dir` (the layout of `python -m sydes_mini reproduce` and of
# the `pretrain` / `finetune` notebooks) and writes the paper's Tables 2, 3, 4, 5, 6, 9 and 10 with our
# column beside the paper's: `<out_dir>/table<N>.csv` (numbers, %), `<out_dir>/tables.html` (all tables)
# and `<out_dir>/missing.txt` (the command of every run not made yet). Run it with papermill, never
# over this file:
#
# ```bash
# papermill notebooks/runs/tables.ipynb runs/smoke/tables.ipynb -k python3 -p profile smoke -p runs_dir runs/smoke
# ```

# %% tags=["parameters"]
profile = "smoke"         # the profile the runs were made with (only used to print missing commands)
runs_dir = "runs/smoke"   # the folder of the main run; ablation runs live in <runs_dir>/table<N>/<row>/
out_dir = ""              # "": <runs_dir>/tables

# %%
from pathlib import Path

from IPython.display import HTML, display

from sydes_mini import paper_tables
from sydes_mini.plots.results import style_table

if not Path(runs_dir).is_dir():
    raise FileNotFoundError(f"runs_dir={runs_dir!r} is not a folder; give the folder of the main run "
                            "(the --out of reproduce, e.g. runs/smoke)")
out = Path(out_dir or Path(runs_dir) / "tables")
out.mkdir(parents=True, exist_ok=True)
html, todo = [], {}
for number, table in paper_tables.TABLES.items():
    frame = paper_tables.compare(number, runs_dir)
    frame.to_csv(out / f"table{number}.csv")
    styled = style_table(frame, f"Table {number}: {table.title} (test, %)")
    html.append(styled.to_html())
    display(styled)
    todo.update({cmd: None for cmd in paper_tables.missing(number, runs_dir, profile).values()})
(out / "tables.html").write_text("\n".join(html))
(out / "missing.txt").write_text("".join(f"{cmd}\n" for cmd in todo))
print(f"wrote {len(paper_tables.TABLES)} tables to {out}; {len(todo)} runs not made yet (see missing.txt)")
