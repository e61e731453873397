"""plots.results.run_history: weighted loss terms, learning rate, and the dev evaluation that picked the best checkpoint."""
import matplotlib
import numpy as np
import pandas as pd
import pytest

from sydes_mini.plots.results import run_history

matplotlib.use("Agg")


def log(dev: dict) -> pd.DataFrame:
    train = [{"step": s, "epoch": 0, "loss": 2.0 - 0.1 * s, "cls": 1.5, "itc": 2.0, "lr": 1e-3 * s} for s in (1, 2, 3, 4)]
    evals = [{"eval": "dev", "step": s, **{k: v[i] for k, v in dev.items()}} for i, s in enumerate((2, 4, 6))]
    return pd.DataFrame(train + evals)


def ringed(ax) -> tuple[float, float]:
    (offsets,) = [c.get_offsets() for c in ax.collections]
    return tuple(np.asarray(offsets)[0])


def test_terms_are_weighted_and_the_best_dev_point_is_ringed():
    finetune = log({"loss": [1.0, 0.9, 0.95], "f1": [0.2, 0.3, 0.6]})
    pretrain = log({"loss": [1.0, 0.7, 0.8]})
    fig = run_history({"pre": (pretrain, {"itc": 0.5}), "fine": (finetune, {"cls": 1.0, "itc": 0.4})})
    (pre_terms, _, pre_dev), (terms, lr, dev) = fig.axes[:3], fig.axes[3:]
    assert [l.get_label() for l in terms.lines] == ["1 × L_cls", "0.4 × L_itc"]
    assert list(terms.lines[1].get_ydata()) == pytest.approx([0.8] * 4)          # 0.4 * 2.0
    assert list(lr.lines[0].get_ydata()) == pytest.approx([1e-3, 2e-3, 3e-3, 4e-3])
    assert ringed(dev) == pytest.approx((6, 60))          # fine-tuning: highest dev macro-F1, in %
    assert ringed(pre_dev) == pytest.approx((4, 0.7))     # pretraining: lowest dev loss
    assert [l.get_label() for l in pre_terms.lines] == ["0.5 × L_itc"]
