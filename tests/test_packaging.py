"""The wheel holds exactly the packages the source tree has (an editable install hides a gap)."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_python_package_folder_is_listed_in_pyproject() -> None:
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    top_level = {folder: name for name, folder in setuptools["package-dir"].items()}
    on_disk = {
        ".".join(
            [
                top_level[init.parent.relative_to(ROOT).parts[0]],
                *init.parent.parts[len(ROOT.parts) + 1 :],
            ]
        )
        for folder in top_level
        for init in (ROOT / folder).rglob("__init__.py")
    }
    assert on_disk == set(setuptools["packages"])
