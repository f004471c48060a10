import re
import tomllib
from pathlib import Path

import link_cli

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_version_is_a_plain_semver_string():
    assert re.fullmatch(r"\d+\.\d+\.\d+", link_cli.__version__)


def test_the_package_ships_its_py_typed_marker():
    assert (Path(link_cli.__file__).parent / "py.typed").is_file()
    setuptools = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert "py.typed" in setuptools["package-data"]["link_cli"]
