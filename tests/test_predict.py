"""predict: probabilities per task, attention for the overlay, and loading the three fine-tuned models of a run."""
import pytest
import torch
from PIL import Image

from sydes_mini.checkpoint import CheckpointError, save_weights
from sydes_mini.config import get_config
from sydes_mini.labels import LABELS, TASKS
from sydes_mini.model import build_model
from sydes_mini.predict import Predictor, load_predictor

IMAGE = Image.new("RGB", (300, 200), (200, 50, 40))
CAPTION = "an angry man wanting revenge"


@pytest.fixture(scope="module")
def untrained():
    return Predictor.untrained("smoke", seed=0)


def test_probabilities_and_attention(untrained):
    p = untrained.predict(IMAGE, CAPTION)
    for task in TASKS:
        assert list(p.probabilities[task]) == list(LABELS[task])
        assert sum(p.probabilities[task].values()) == pytest.approx(1.0, abs=1e-5)
    assert p.tokens[0] == "<start_of_text>" and p.tokens[-1] == "<end_of_text>" and "revenge" in p.tokens
    assert p.attention.shape == (len(p.tokens) - 1, 5 * 196)             # no padding, no end-of-text query
    assert torch.allclose(p.attention.sum(-1), torch.ones(len(p.tokens) - 1), atol=1e-4)
    assert p.global_view.shape == (3, 224, 224) and p.crops.shape == (4, 3, 224, 224)
    top = p.top()
    assert top["sentiment"][1] == max(p.probabilities["sentiment"].values())
    with pytest.raises(ValueError, match="attention_task"):
        untrained.predict(IMAGE, CAPTION, attention_task="humour")


def save_run(root, tasks, seed=1):
    """A run folder as training writes it: RUN/finetune/<task>/{config.json, best.safetensors}."""
    cfg = get_config("smoke", ["variant=paper"])
    models = {}
    for task in tasks:
        torch.manual_seed(seed + TASKS.index(task))
        models[task] = build_model(cfg, task).eval()
        folder = root / "finetune" / task
        folder.mkdir(parents=True)
        cfg.save(folder / "config.json")
        save_weights(models[task], folder / "best.safetensors", {"profile": "smoke", "stage": "finetune", "task": task})
    return models


def test_a_run_is_loaded_with_its_weights_and_config(tmp_path, untrained):
    models = save_run(tmp_path, TASKS)
    predictor = load_predictor(tmp_path)
    assert predictor.source.startswith("fine-tuned (smoke profile)") and predictor.cfg.variant == "paper"
    direct = Predictor(models, predictor.cfg, "direct").predict(IMAGE, CAPTION)
    loaded = predictor.predict(IMAGE, CAPTION)
    other = untrained.predict(IMAGE, CAPTION)
    for task in TASKS:   # same weights -> same numbers (up to float summation order)
        assert list(loaded.probabilities[task].values()) == pytest.approx(list(direct.probabilities[task].values()),
                                                                          abs=1e-6)
        assert list(loaded.probabilities[task].values()) != pytest.approx(list(other.probabilities[task].values()),
                                                                          abs=1e-6)


def test_a_checkpoint_of_another_task_is_refused(tmp_path):
    save_run(tmp_path, TASKS)
    (tmp_path / "finetune" / "emotion" / "best.safetensors").write_bytes(
        (tmp_path / "finetune" / "desire" / "best.safetensors").read_bytes())
    with pytest.raises(CheckpointError, match="task='desire'.*task='emotion'"):
        load_predictor(tmp_path)


def test_an_incomplete_run_falls_back_to_untrained_and_says_so(tmp_path):
    save_run(tmp_path, ["desire"])
    predictor = load_predictor(tmp_path)
    assert predictor.source.startswith("untrained") and "for desire of desire, emotion, sentiment" in predictor.source
    with pytest.raises(ValueError, match="missing"):
        Predictor({"desire": build_model(get_config("smoke"), "desire")}, get_config("smoke"), "x")


def test_from_run_on_a_missing_run_names_the_files(tmp_path):
    with pytest.raises(CheckpointError, match="finetune/desire/best.safetensors.*reproduce --out"):
        Predictor.from_run(tmp_path / "no-run")


def test_uploaded_image_with_ipywidgets_8_and_7():
    """Chapter 11's upload: ipywidgets 8's value (tuple of dicts, memoryview) and 7's (dict by file name)."""
    import datetime
    import io

    import ipywidgets

    from sydes_mini.predict import image_from_upload
    buffer = io.BytesIO()
    IMAGE.save(buffer, format="PNG")
    data = buffer.getvalue()
    v7 = {"photo.png": {"metadata": {"name": "photo.png", "type": "image/png", "size": len(data)}, "content": data}}
    upload = ipywidgets.FileUpload(accept="image/*", multiple=False)
    assert image_from_upload(upload.value) is None                          # nothing uploaded yet
    upload.value = ({"name": "photo.png", "type": "image/png", "size": len(data), "content": memoryview(data),
                     "last_modified": datetime.datetime.now(datetime.timezone.utc)},)
    for value in (upload.value, v7):
        image = image_from_upload(value)
        assert image.size == IMAGE.size and image.getpixel((10, 10)) == (200, 50, 40)
    assert image_from_upload({}) is None
