import numpy as np
import pytest
import torch
from PIL import Image

from gan_core.data.loading import DataError, data_info, load_data


def _write(folder, n, size=(12, 10), mode="RGB", value=128):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        channels = 3 if mode == "RGB" else 1
        arr = np.full((size[1], size[0], channels), value + i, np.uint8)
        Image.fromarray(arr.squeeze(-1) if channels == 1 else arr, mode).save(
            folder / f"{i}.png"
        )


def test_flat_folder_is_unconditional_resized_and_kept_uint8(tmp_path):
    _write(tmp_path, 3, value=253)
    data = load_data(tmp_path, image_size=8)
    assert data.kind == "images" and data.images.shape == (3, 3, 8, 8)
    assert data.images.dtype == torch.uint8 and data.images[2].max() == 255
    floats = data.float_images()
    assert floats.min() >= -1 and floats[2].max() == pytest.approx(1.0)


def test_class_subfolders_give_labels_in_name_order(tmp_path):
    _write(tmp_path / "cats", 2)
    _write(tmp_path / "dogs", 3)
    data = load_data(tmp_path, image_size=8)
    assert data.kind == "classes" and data.class_names == ("cats", "dogs")
    assert data.labels.tolist() == [0, 0, 1, 1, 1]


def test_a_and_b_folders_are_two_domains(tmp_path):
    _write(tmp_path / "A", 2)
    _write(tmp_path / "B", 4)
    data = load_data(tmp_path, image_size=8)
    assert data.kind == "domains" and data.a.shape[0] == 2 and data.b.shape[0] == 4


def test_grayscale_is_detected(tmp_path):
    _write(tmp_path, 3, mode="L")
    data = load_data(tmp_path, image_size=8)
    assert data.channels == 1 and data_info(data).channels == 1


@pytest.mark.parametrize("n, message", [(0, "too few images"), (1, "too few images")])
def test_too_few_images_is_a_clear_error(tmp_path, n, message):
    _write(tmp_path, n)
    with pytest.raises(DataError, match=message):
        load_data(tmp_path, image_size=8)


def test_missing_folder_and_unknown_builtin_are_clear_errors(tmp_path):
    with pytest.raises(DataError, match="data folder not found"):
        load_data(tmp_path / "nope", image_size=8)
    with pytest.raises(DataError, match="built-in"):
        load_data("builtin:nope", image_size=8)


def test_points_csv_with_header(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("x,y\n0.5,1\n-1,2.5\n3,4\n")
    data = load_data(path, image_size=8)
    assert data.kind == "points"
    assert torch.equal(data.points, torch.tensor([[0.5, 1], [-1, 2.5], [3, 4]]))


def test_fingerprint_follows_content(tmp_path):
    _write(tmp_path / "a", 2)
    _write(tmp_path / "b", 2, value=10)
    fa = data_info(load_data(tmp_path / "a", image_size=8)).fingerprint
    fb = data_info(load_data(tmp_path / "b", image_size=8)).fingerprint
    assert fa and fa != fb
    assert fa == data_info(load_data(tmp_path / "a", image_size=8)).fingerprint
