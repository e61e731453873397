"""Pretrained weights go through open_clip; local files work; offline fails at once, saying what to do."""
import time

import open_clip
import pytest
import torch
from open_clip.transformer import MultimodalTransformer
from safetensors.torch import save_file

from sydes_mini.config import get_config
from sydes_mini.model import WeightsUnavailable, build_model
from sydes_mini.model.coca import load_coca_decoder


@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_clip_weights_from_a_local_file(tmp_path, suffix):
    torch.manual_seed(123)
    source = open_clip.create_model("sydes-smoke")
    path = tmp_path / f"clip{suffix}"
    state = {k: v.contiguous() for k, v in source.state_dict().items()}
    torch.save(state, path) if suffix == ".pt" else save_file(state, str(path))
    model = build_model(get_config("smoke", [f"model.clip_pretrained={path}"]))
    assert torch.equal(model.image_encoder.visual.conv1.weight, source.visual.conv1.weight)
    assert torch.equal(model.text_encoder.token_embedding.weight, source.token_embedding.weight)


def test_missing_local_file_is_named(tmp_path):
    with pytest.raises(WeightsUnavailable, match="nothere.pt"):
        build_model(get_config("smoke", [f"model.clip_pretrained={tmp_path}/nothere.pt"]))


def test_offline_fails_at_once_with_instructions(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    cfg = get_config("full", ["model.text_decoder_pretrained=none"])
    start = time.monotonic()
    with pytest.raises(WeightsUnavailable) as err:
        build_model(cfg)
    assert time.monotonic() - start < 30   # generous: it must not try to download
    message = str(err.value)
    assert "ViT-B-16-quickgelu/openai" in message and "offline" in message
    assert "model.clip_pretrained=" in message


def test_unknown_tag_lists_known_tags():
    with pytest.raises(WeightsUnavailable, match="known"):
        build_model(get_config("smoke", ["model.clip_model=ViT-B-16", "model.clip_pretrained=nosuchtag"]))


def test_coca_decoder_loads_matching_tensors_and_reports_the_rest(tmp_path, capsys):
    torch.manual_seed(0)
    cfg = get_config("smoke")
    m = cfg.model
    coca_decoder = MultimodalTransformer(m.text_decoder_width, m.text_decoder_layers, m.text_decoder_heads,
                                         context_length=76, output_dim=49408)
    for p in coca_decoder.parameters():
        torch.nn.init.normal_(p)
    state = {f"text_decoder.{k}": v for k, v in coca_decoder.state_dict().items()}
    state["visual.conv1.weight"] = torch.zeros(3)                         # other towers are ignored
    state["text_decoder.ln_final.weight"] = torch.ones(m.text_decoder_width + 1)  # wrong shape: skipped
    torch.save(state, tmp_path / "coca.pt")

    model = build_model(cfg)
    report = load_coca_decoder(model.text_decoder.decoder, str(tmp_path / "coca.pt"), m.coca_model, m.coca_tag)
    ours = model.text_decoder.decoder
    assert torch.equal(ours.resblocks[0].attn.in_proj_weight, coca_decoder.resblocks[0].attn.in_proj_weight)
    assert torch.equal(ours.cross_attn[-1].mlp.c_fc.weight, coca_decoder.cross_attn[-1].mlp.c_fc.weight)
    assert "text_decoder.text_projection" in report["skipped"]              # vocab projection: unused here
    assert "shape" in report["skipped"]["text_decoder.ln_final.weight"]
    assert report["missing"] == ["ln_final.weight", "text_projection"]   # ours to 512 (authors: random, not CoCa's)
    assert "skipped" in capsys.readouterr().out


def test_coca_file_without_decoder_is_an_error(tmp_path):
    torch.save({"visual.conv1.weight": torch.zeros(1)}, tmp_path / "x.pt")
    with pytest.raises(WeightsUnavailable, match="text_decoder"):
        build_model(get_config("smoke", [f"model.text_decoder_pretrained={tmp_path}/x.pt"]))


def cached_tag(monkeypatch, tmp_path, cfg: dict) -> dict:
    """Register an open_clip tag ``cached`` for the smoke model, with empty caches and no internet."""
    import huggingface_hub
    import open_clip.pretrained
    monkeypatch.setitem(open_clip.pretrained._PRETRAINED, "sydes-smoke", {"cached": cfg})
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    torch.manual_seed(7)
    return {k: v.contiguous() for k, v in open_clip.create_model("sydes-smoke").state_dict().items()}


@pytest.mark.parametrize("cache", ["huggingface", "open_clip"])
def test_weights_in_a_local_cache_load_offline(monkeypatch, tmp_path, cache):
    """Issue 13: weights downloaded once (Hugging Face's cache, or open_clip's ~/.cache/clip) load on a
    machine without internet; before they are there, the offline error names the fix."""
    state = cached_tag(monkeypatch, tmp_path, {"hf_hub": "someone/sydes-smoke-test/",
                                               "url": "https://example.org/clip/sydes-smoke-test.pt"})
    cfg = get_config("smoke", ["model.clip_pretrained=cached"])
    with pytest.raises(WeightsUnavailable, match="not in the local caches and this machine is offline"):
        build_model(cfg)
    if cache == "huggingface":            # the layout hf_hub_download leaves: refs/main -> snapshots/<sha>/file
        repo = tmp_path / "hf" / "models--someone--sydes-smoke-test"
        (repo / "refs").mkdir(parents=True)
        (repo / "refs" / "main").write_text("abc123")
        (repo / "snapshots" / "abc123").mkdir(parents=True)
        save_file(state, str(repo / "snapshots" / "abc123" / "open_clip_model.safetensors"))
    else:
        (tmp_path / "home" / ".cache" / "clip").mkdir(parents=True)
        torch.save(state, tmp_path / "home" / ".cache" / "clip" / "sydes-smoke-test.pt")
    model = build_model(cfg)
    assert torch.equal(model.image_encoder.visual.conv1.weight, state["visual.conv1.weight"])
    assert torch.equal(model.text_encoder.token_embedding.weight, state["token_embedding.weight"])
