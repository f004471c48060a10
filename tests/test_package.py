import re

import link_cli


def test_version_is_a_plain_semver_string():
    assert re.fullmatch(r"\d+\.\d+\.\d+", link_cli.__version__)
