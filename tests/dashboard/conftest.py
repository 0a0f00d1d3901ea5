import pytest

from programs.files import Tuodi


@pytest.fixture
def tuodi(tmp_path):
    return Tuodi(tmp_path)
