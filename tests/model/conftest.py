import pytest

from tests.support.tiny_model import get_tiny_model


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    return get_tiny_model(tmp_path_factory)
