"""The dataset tests' own media folder, for the uploads these tests make."""

from tests.ganweb.datasets.conftest import media  # noqa: F401
