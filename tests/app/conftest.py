"""Every app test starts and ends in English (the language is process-global)."""

from collections.abc import Iterator

import pytest

from ohtchat.i18n import set_language


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    set_language("en")
    yield
    set_language("en")
