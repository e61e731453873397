"""Profiles, overrides by name, JSON round trip."""
import json

import pytest

from sydes_mini.config import Config, config_from_parameters, get_config


def test_full_profile_is_the_paper_recipe():
    cfg = get_config("full")
    assert cfg.model.clip_model.startswith("ViT-B-16") and cfg.model.clip_pretrained == "openai"
    assert (cfg.model.image_decoder_layers, cfg.model.image_decoder_width, cfg.model.image_decoder_heads) == (8, 512, 8)
    assert (cfg.model.text_decoder_layers, cfg.model.text_decoder_width, cfg.model.text_decoder_heads) == (12, 768, 12)
    assert cfg.train.lr_pretrain == {"image_encoder": 5e-6, "text_encoder": 5e-5, "image_decoder": 1e-4,
                                     "others": 1e-4}           # "others": the authors' catch-all group
    assert cfg.train.lr_finetune == {"text_encoder": 1e-4, "text_decoder": 2e-4, "head": 1e-4, "others": 1e-4}
    assert (cfg.model.latent_dim, cfg.model.text_decoder_output_dim) == (512, 512)
    assert cfg.train.pretrain_weights == {"rec": 1.0, "si": 0.5, "dc": 0.025, "itc": 0.5}
    assert cfg.train.finetune_weights == {"cls": 1.0, "itc": 0.4}
    assert cfg.train.batch_size * cfg.train.grad_accum == 64
    assert cfg.train.epochs_pretrain == cfg.train.epochs_finetune == 50


def test_overrides_are_parsed_by_field_type():
    cfg = get_config("smoke", ["model.mask_ratio=0.5", "model.use_crops=false", "seed=7",
                               "train.pretrain_losses=rec,itc", "model.clip_pretrained=none",
                               'train.lr_finetune={"text_encoder": 1, "text_decoder": 2, "head": 3}',
                               "variant=paper"])
    assert cfg.model.mask_ratio == 0.5 and cfg.model.use_crops is False and cfg.seed == 7
    assert cfg.train.pretrain_losses == ["rec", "itc"] and cfg.model.clip_pretrained is None
    assert cfg.train.lr_finetune["head"] == 3 and cfg.variant == "paper"


@pytest.mark.parametrize("bad, words", [
    ("model.nope=1", "unknown config field"),
    ("nope.mask_ratio=1", "unknown config section"),
    ("model.mask_ratio=half", "cannot read"),
    ("model.mask_ratio=1.5", "mask_ratio"),
    ("model.use_crops=maybe", "cannot read"),
    ("train.pretrain_losses=rec,xyz", "allowed"),
    ("variant=other", "variant"),
    ("mask_ratio", "section.field=value"),
])
def test_bad_overrides_name_the_field(bad, words):
    with pytest.raises(ValueError, match=words):
        get_config("smoke", [bad])


def test_json_round_trip(tmp_path):
    cfg = get_config("full", ["model.mask_ratio=0.25", "data.text_field=title+caption"])
    cfg.save(tmp_path / "config.json")
    again = Config.load(tmp_path / "config.json")
    assert again == cfg and again.to_json() == cfg.to_json()


def test_a_config_saved_with_one_epochs_field_loads_as_both_stages(tmp_path):
    old = json.loads(get_config("smoke").to_json())
    del old["train"]["epochs_pretrain"], old["train"]["epochs_finetune"]
    old["train"]["epochs"] = 7
    (tmp_path / "config.json").write_text(json.dumps(old))
    cfg = Config.load(tmp_path / "config.json")
    assert (cfg.train.epochs_pretrain, cfg.train.epochs_finetune) == (7, 7)


def test_unknown_profile():
    with pytest.raises(ValueError, match="smoke"):
        get_config("huge")


def test_notebook_parameters_none_keeps_the_profile_and_overrides_come_first():
    smoke = get_config("smoke")
    cfg = config_from_parameters("smoke", ["train.epochs_pretrain=9", "model.mask_ratio=0.5"], epochs=2, seed=None,
                                 data_root="data/x", device="cpu")
    assert cfg.train.epochs_pretrain == cfg.train.epochs_finetune == 2   # `epochs` is both stages' epochs
    assert cfg.model.mask_ratio == 0.5 and cfg.seed == smoke.seed
    assert cfg.data.root == "data/x" and cfg.train.device == "cpu" and cfg.train.batch_size == smoke.train.batch_size
    with pytest.raises(ValueError, match="unknown notebook parameter.*'epoch'"):
        config_from_parameters("smoke", epoch=1)
