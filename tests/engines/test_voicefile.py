import numpy as np
import pytest

from realvoice.engines import VoiceModel
from realvoice.errors import ModelFileError


def _model():
    return VoiceModel(
        "kokoro",
        "v1",
        "nearest-stock",
        {"style": np.ones((510, 256), np.float32)},
        params={"stock_voice": "x"},
        metrics={"sim": 0.5},
        sample_hashes=["ab"],
    )


def test_round_trip(tmp_path):
    path = _model().save(tmp_path / "m.npz")
    m = VoiceModel.load(path, engine="kokoro", supported_versions=["v1"])
    assert m.method == "nearest-stock" and m.params == {"stock_voice": "x"} and m.sample_hashes == ["ab"]
    assert np.array_equal(m.arrays["style"], np.ones((510, 256), np.float32))
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]  # no temp file left


@pytest.mark.parametrize("engine,versions", [("other", ["v1"]), ("kokoro", ["v2"])])
def test_refuses_unknown_engine_or_version(tmp_path, engine, versions):
    path = _model().save(tmp_path / "m.npz")
    with pytest.raises(ModelFileError, match="engine"):
        VoiceModel.load(path, engine=engine, supported_versions=versions)


def test_refuses_corrupt_and_missing_files(tmp_path):
    (tmp_path / "bad.npz").write_bytes(b"not a model")
    with pytest.raises(ModelFileError, match="corrupt"):
        VoiceModel.load(tmp_path / "bad.npz", engine="kokoro", supported_versions=["v1"])
    with pytest.raises(ModelFileError, match="missing"):
        VoiceModel.load(tmp_path / "none.npz", engine="kokoro", supported_versions=["v1"])


def test_a_failed_write_leaves_the_old_file_and_no_temp(tmp_path, monkeypatch):
    path = _model().save(tmp_path / "m.npz")
    before = path.read_bytes()
    monkeypatch.setattr("os.replace", lambda *a: (_ for _ in ()).throw(OSError(28, "No space left")))
    with pytest.raises(OSError):
        _model().save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]
