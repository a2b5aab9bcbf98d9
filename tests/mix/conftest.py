from __future__ import annotations

import numpy as np
import pytest

from .signals import speechlike


@pytest.fixture(scope="session")
def speech() -> np.ndarray:
    return speechlike()


@pytest.fixture(autouse=True)
def _music_cache(tmp_path_factory, monkeypatch):
    """Keep rendered beds out of the user's data folder."""
    monkeypatch.setenv("REALVOICE_HOME", str(tmp_path_factory.getbasetemp() / "home"))
