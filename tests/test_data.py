"""MSED-format reading, image loading, data check, dataset, collate and loaders."""
import numpy as np
import pytest
import torch
from PIL import Image

from conftest import HEADER, broken_folder, row, write_split
from sydes_mini.config import DataConfig
from sydes_mini.data import (DataError, MSEDDataset, check_root, collate, load_split, make_loader, trim_padding,
                             read_split, scan_split, tokenize)
from sydes_mini.images import format_problem, load_image
from sydes_mini.labels import LABELS
from sydes_mini.views import denormalize

# ------------------------------------------------------------------ CSV


def test_read_split_records(msed):
    records = read_split(msed, "train")
    assert [r.index for r in records] == [1, 2]
    assert records[1].image_path == msed / "train" / "images" / "2.jpg"
    assert records[1].caption == "a cat"
    assert records[1].labels == {"desire": LABELS["desire"].index("family"),
                                 "emotion": LABELS["emotion"].index("sad"), "sentiment": 0}
    assert records[1].raw_labels["emotion"] == "sad"


def test_bom_quoted_commas_newlines_and_label_case(tmp_path):
    folder = write_split(tmp_path, rows=[row()])
    text = ('\ufeffTitle,Caption,Sentiment,Emotion,Desire,Inference Sequence\r\n'
            't1,"one, two\nthree",Positive , HAPPINESS,Social-Contact,s\r\n'
            't2,"say ""hi""",neutral,neutral,none,s\r\n')
    (folder / "train.csv").write_bytes(text.encode("utf-8"))
    a, b = read_split(tmp_path, "train")
    assert a.title == "t1" and a.caption == "one, two\nthree"
    assert a.labels == {"desire": 2, "emotion": 0, "sentiment": 2}
    assert b.index == 2 and b.caption == 'say "hi"'


def test_sixth_column_is_optional(tmp_path):
    write_split(tmp_path, rows=[row()[:5]], header=HEADER[:5])
    assert len(read_split(tmp_path, "train")) == 1


@pytest.mark.parametrize("header, missing", [
    (["Title", "Text", "Sentiment", "Emotion", "Desire", "Inference Sequence"], "['Caption']"),   # renamed
    (["Title", "Caption", "Sentiment", "Emotion"], "['Desire']"),                                 # missing
])
def test_missing_or_renamed_column_lists_expected_and_found(tmp_path, header, missing):
    write_split(tmp_path, rows=[row()[:len(header)]], header=header)
    with pytest.raises(DataError, match=r"train\.csv: missing column") as e:
        read_split(tmp_path, "train")
    expected = "['Title', 'Caption', 'Sentiment', 'Emotion', 'Desire']"
    assert f"missing column(s) {missing}; expected {expected}" in str(e.value)
    assert f"found {header}" in str(e.value) and "Fix: rename the header" in str(e.value)


def test_unquoted_comma_and_empty_csv(tmp_path):
    folder = write_split(tmp_path, rows=[row(), row()])
    (folder / "train.csv").write_text(",".join(HEADER) + "\nt,one,two,positive,happiness,none,s\n")
    with pytest.raises(DataError, match=r"train\.csv, row 1: row has 7 fields, header has 6.*Fix: quote"):
        read_split(tmp_path, "train")
    (folder / "train.csv").write_text("")
    with pytest.raises(DataError, match=r"train\.csv: CSV file is empty"):
        read_split(tmp_path, "train")


def test_unknown_label_lists_allowed_labels_with_file_and_row(tmp_path):
    write_split(tmp_path, rows=[row(), row(emotion="joy")])
    with pytest.raises(DataError) as e:
        read_split(tmp_path, "train")
    assert e.value.row == 2 and e.value.file.endswith("train.csv")
    assert "unknown emotion label 'joy'; allowed: happiness, sad, neutral, disgust, anger, fear" in str(e.value)


def test_non_utf8_bytes_name_the_row(tmp_path):
    folder = write_split(tmp_path, rows=[row()])
    data = 'Title,Caption,Sentiment,Emotion,Desire\nt,"multi\nline",positive,happiness,none\n'.encode()
    data += b"t,caf\xe9 latin-1,positive,happiness,none\n"
    (folder / "train.csv").write_bytes(data)
    records, problems = scan_split(tmp_path, "train")
    assert [r.index for r in records] == [1]
    assert problems[0]["row"] == 2 and "non-UTF-8" in problems[0]["message"]
    assert "re-save the CSV as UTF-8" in problems[0]["message"]

# ------------------------------------------------------------------ images


def save(image, path, **kw):
    image.save(path, **kw)
    return path


def pixel(image, xy=(2, 2)):
    return np.array(image.getpixel(xy), dtype=int)


@pytest.mark.parametrize("mode, value, expected", [
    ("L", 100, (100, 100, 100)),
    ("1", 1, (255, 255, 255)),
    ("LA", (0, 0), (255, 255, 255)),            # fully transparent -> white
    ("RGBA", (255, 0, 0, 128), (255, 127, 127)),  # half-transparent red on white
    ("RGBA", (0, 0, 255, 255), (0, 0, 255)),
])
def test_modes_convert_to_rgb(tmp_path, mode, value, expected):
    image = load_image(save(Image.new(mode, (8, 8), value), tmp_path / "x.png"))
    assert image.mode == "RGB" and np.abs(pixel(image) - expected).max() <= 1


def test_palette_with_and_without_transparency(tmp_path):
    p = Image.new("P", (8, 8), 1)
    p.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    assert tuple(pixel(load_image(save(p, tmp_path / "p.png")))) == (255, 0, 0)
    assert tuple(pixel(load_image(save(p, tmp_path / "t.png", transparency=1)))) == (255, 255, 255)


def test_cmyk_and_16_bit(tmp_path):
    cyan = load_image(save(Image.new("CMYK", (8, 8), (255, 0, 0, 0)), tmp_path / "c.jpg"))
    assert np.abs(pixel(cyan) - (0, 255, 255)).max() <= 2
    deep = Image.fromarray(np.full((8, 8), 40000, np.uint16))       # I;16
    gray = load_image(save(deep, tmp_path / "d.png"))
    assert tuple(pixel(gray)) == (156, 156, 156)                     # 40000 * 255 / 65535, not 255


@pytest.mark.parametrize("orientation, red_at, blue_at", [(6, (10, 5), (10, 35)), (3, (30, 10), (10, 10))])
def test_exif_orientation_is_applied(tmp_path, orientation, red_at, blue_at):
    image = Image.new("RGB", (40, 20), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 20, 20))                         # stored: left red, right blue
    exif = Image.Exif()
    exif[0x0112] = orientation
    loaded = load_image(save(image, tmp_path / "o.jpg", exif=exif, quality=95))
    assert loaded.size == ((20, 40) if orientation == 6 else (40, 20))
    assert pixel(loaded, red_at)[0] > 200 and pixel(loaded, blue_at)[2] > 200


@pytest.mark.parametrize("fmt", ["PNG", "GIF", "WEBP"])
def test_other_formats_named_jpg_load_and_are_reported(tmp_path, fmt):
    path = save(Image.new("RGB", (8, 8), (255, 0, 0)), tmp_path / "5.jpg", format=fmt, lossless=True)
    assert np.abs(pixel(load_image(path)) - (255, 0, 0)).max() <= 2     # the content is read, not the name
    problem = format_problem(path, row=5)
    assert (problem.file, problem.row) == (str(path), 5)
    assert f"file is {fmt} data with a .jpg name" in str(problem) and "Fix: re-save it as JPEG" in str(problem)
    assert format_problem(save(Image.new("RGB", (8, 8)), tmp_path / "ok.jpg")) is None


def test_large_images_refused_unless_limit_raised(tmp_path):
    path = save(Image.new("RGB", (100, 100)), tmp_path / "big.jpg")
    for limit in (5_000, 1_000):                # our check, and Pillow's DecompressionBombError
        with pytest.raises(DataError, match=r"big\.jpg.*over the limit.*--max-pixels N or "
                                            r"--set data\.max_image_pixels=N"):
            load_image(path, max_pixels=limit, row=3)
    assert load_image(path, max_pixels=10_000).size == (100, 100)
    assert Image.MAX_IMAGE_PIXELS > 10_000      # Pillow's global limit is restored

# ------------------------------------------------------------------ data check


def test_check_lists_every_problem_in_one_run(tmp_path):
    broken_folder(tmp_path)
    report = check_root(tmp_path, splits=["train"])
    by_row = {p["row"]: p for p in report["problems"]}
    expected = {1: "image file is missing", 2: "empty (0 bytes)", 3: "truncated or corrupt (image file is truncated",
                4: "file is PNG data with a .jpg name", 8: "unknown desire label 'wealth'"}
    for k, text in expected.items():
        assert text in by_row[k]["message"] and "Fix: " in by_row[k]["message"], by_row[k]
        assert by_row[k]["split"] == "train"
    assert all(by_row[k]["file"].endswith(f"images/{k}.jpg") for k in (1, 2, 3, 4))
    assert by_row[8]["file"].endswith("train.csv")
    assert by_row[None]["file"].endswith("10.jpg") and "no CSV row" in by_row[None]["message"]
    assert len(report["problems"]) == 6
    summary = report["splits"]["train"]
    assert summary["n"] == 9
    assert summary["counts"] == {"small_images": 1, "empty_captions": 1, "long_captions": 1}
    assert summary["labels"]["sentiment"] == {"negative": 0, "neutral": 0, "positive": 8}


def test_check_clean_folder_and_missing_csv(msed, tmp_path):
    report = check_root(msed)
    assert report["problems"] == [] and report["splits"]["dev"]["n"] == 2
    assert report["splits"]["train"]["labels"]["emotion"]["sad"] == 1
    missing = check_root(tmp_path / "nowhere", splits=["dev"])
    assert "CSV file is missing" in missing["problems"][0]["message"]


def test_check_refuses_large_images_unless_limit_raised(msed):
    assert len(check_root(msed, max_pixels=1_000)["problems"]) == 6    # 64 x 48 > 1000
    assert check_root(msed, max_pixels=10_000)["problems"] == []

# ------------------------------------------------------------------ dataset and loader


def test_small_images_are_allowed_upscaled_and_counted(tmp_path):
    write_split(tmp_path, rows=[row(), row()], size=(100, 60))                    # row 1: (10, 100, 200)
    Image.new("RGB", (600, 450)).save(tmp_path / "train" / "images" / "2.jpg")     # row 2: not small
    assert check_root(tmp_path, splits=["train"])["splits"]["train"]["counts"]["small_images"] == 1
    item = MSEDDataset(read_split(tmp_path, "train"), variant="paper")[0]
    assert item["crops"].shape == (4, 3, 224, 224)
    colour = denormalize(item["crops"]).reshape(-1, 3) * 255                      # [4*224*224, 3]
    assert (colour - torch.tensor([10.0, 100, 200])).abs().max() < 3          # 100 x 60 stretched over all 448


def test_unreadable_image_in_the_dataset_names_file_and_row(msed):
    (msed / "train" / "images" / "2.jpg").unlink()
    dataset = load_split(msed, "train")
    with pytest.raises(DataError, match=r"images/2\.jpg, row 2: image file is missing.*Fix: put the image"):
        dataset[1]


def test_dataset_item_and_collate(msed):
    ds = load_split(msed, "train", DataConfig(), variant="code")
    item = ds[1]
    assert item["global_view"].shape == (3, 224, 224) and item["crops"].shape == (4, 3, 224, 224)
    assert item["text"].shape == (77,) and item["text"].dtype == torch.long
    assert torch.equal(item["text"], tokenize(["a cat"])[0]) and item["index"] == 2
    assert {t: int(v) for t, v in item["labels"].items()} == {"desire": 3, "emotion": 1, "sentiment": 0}
    batch = collate([ds[0], ds[1]])
    assert batch["global_view"].shape == (2, 3, 224, 224) and batch["crops"].shape == (2, 4, 3, 224, 224)
    assert torch.equal(batch["text"], trim_padding(torch.stack([ds[0]["text"], ds[1]["text"]])))   # [2, L]
    assert batch["text"].shape[1] < 77 and batch["index"].tolist() == [1, 2]
    assert batch["labels"]["emotion"].tolist() == [0, 1]


def test_modality_and_text_field(msed):
    records = read_split(msed, "train")
    text_only = MSEDDataset(records, modality="text")[0]
    assert torch.equal(text_only["crops"], torch.ones(4, 3, 224, 224))
    assert torch.equal(text_only["global_view"], torch.ones(3, 224, 224))
    image_only = MSEDDataset(records, modality="image")
    assert torch.equal(image_only.text, tokenize(["", ""]))
    both = MSEDDataset(records, text_field="title+caption")
    assert torch.equal(both.text[0], tokenize(["t a dog in a park"])[0])
    long = MSEDDataset([records[0]])
    long.records[0].caption = "word " * 200
    assert MSEDDataset(long.records).text[0, -1] != 0          # truncated to 77, ends with the end token


def test_loader_same_seed_same_batches_any_workers(tmp_path):
    write_split(tmp_path, rows=[row(caption=f"c{k}") for k in range(6)], size=(16, 16))
    ds = MSEDDataset(read_split(tmp_path, "train"))
    order = lambda **kw: [b["index"].tolist() for b in make_loader(ds, batch_size=2, shuffle=True, **kw)]
    a, b = order(seed=1), order(seed=1, num_workers=2)
    assert a == b and sorted(sum(a, [])) == [1, 2, 3, 4, 5, 6]
    assert any(order(seed=s) != a for s in (2, 3, 4))


@pytest.mark.parametrize("variant", ["code", "paper"])
def test_cached_images_give_the_same_views(tmp_path, variant):
    from sydes_mini.data import MSEDDataset, read_split
    from sydes_mini.toy import synth
    root = synth(tmp_path / "toy", n_train=3, n_dev=1, n_test=1, seed=3)
    records = read_split(root, "train")
    plain = MSEDDataset(records, variant=variant)
    cached = MSEDDataset(records, variant=variant, cache_images=True)
    for _ in range(2):                                                     # first use fills, second reads
        for i in range(len(records)):
            a, b = plain[i], cached[i]
            assert torch.equal(a["global_view"], b["global_view"]) and torch.equal(a["crops"], b["crops"])
    assert len(cached.resampled) == len(records) and plain.resampled is None
