"""Metrics (paper 4.1.2): values worked out by hand."""
import pytest

from sydes_mini.metrics import compute_metrics, majority_class, majority_metrics


def test_perfect_predictions_score_one_on_present_classes():
    m = compute_metrics([0, 1, 2, 2], [0, 1, 2, 2], "sentiment")
    assert m["accuracy"] == 1.0 and m["f1"] == 1.0 and m["precision"] == 1.0 and m["n"] == 4
    assert m["labels"] == ["negative", "neutral", "positive"]
    assert m["confusion_matrix"] == [[1, 0, 0], [0, 1, 0], [0, 0, 2]]


def test_macro_average_by_hand():
    # true:  0 0 1 2 ; pred: 0 1 1 1
    # class 0: P 1/1, R 1/2, F 2/3; class 1: P 1/3, R 1, F 1/2; class 2: P 0 (never right), R 0, F 0
    m = compute_metrics([0, 0, 1, 2], [0, 1, 1, 1], "sentiment")
    assert m["precision"] == pytest.approx((1 + 1 / 3 + 0) / 3)
    assert m["recall"] == pytest.approx((0.5 + 1 + 0) / 3)
    assert m["f1"] == pytest.approx((2 / 3 + 0.5 + 0) / 3)
    assert m["accuracy"] == 0.5
    assert m["per_class"]["neutral"] == pytest.approx({"precision": 1 / 3, "recall": 1.0, "f1": 0.5, "support": 1})
    assert m["confusion_matrix"] == [[1, 1, 0], [0, 1, 0], [0, 1, 0]]   # rows true, columns predicted


def test_macro_average_skips_classes_absent_from_labels_and_predictions():
    m = compute_metrics([6, 6], [6, 6], "desire")       # only "none" occurs: the authors' macro F1 is 1
    assert m["f1"] == pytest.approx(1.0)
    m = compute_metrics([6, 6, 0], [6, 6, 6], "desire")  # vengeance occurs (never predicted): F1 (0.8 + 0) / 2
    assert m["f1"] == pytest.approx(0.4)
    assert len(m["confusion_matrix"]) == 7 and all(len(r) == 7 for r in m["confusion_matrix"])
    assert m["per_class"]["none"]["support"] == 2 and m["per_class"]["romance"]["support"] == 0


def test_majority_baseline_formula():
    y_train = [2, 2, 1, 0, 2]
    assert majority_class(y_train) == 2
    y_test = [2, 2, 2, 0]                                # q = 3/4 of the test set is the majority class
    q, K = 0.75, 2                                       # classes 0 and 2 occur
    assert majority_metrics(y_train, y_test, "sentiment")["f1"] == pytest.approx(2 * q / (K * (1 + q)))


@pytest.mark.parametrize("y_true, y_pred, match", [([0, 1], [0], "equal-length"), ([], [], "non-empty"),
                                                   ([0, 3], [0, 0], "outside 0..2")])
def test_bad_inputs_raise(y_true, y_pred, match):
    with pytest.raises(ValueError, match=match):
        compute_metrics(y_true, y_pred, "sentiment")
