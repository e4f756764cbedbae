"""The installed package carries its templates and migrations: the bot works outside the source tree."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """Build the wheel and install it (without dependencies) into a folder of its own."""
    wheels = tmp_path_factory.mktemp("wheels")
    target = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "-w", str(wheels), str(REPO)], check=True, capture_output=True, timeout=300)
    (wheel,) = wheels.glob("smallstep_bot-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "bot/templates/share/kit.j2" in names
    assert "cogs/share/migrations/0001_shares.sql" in names
    assert "bot/storage/migrations/0001_core.sql" in names
    assert not any(name.startswith("tests/") for name in names)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
                    str(wheel)], check=True, capture_output=True, timeout=300)
    return target


def test_the_installed_bot_runs_the_share_flow_from_anywhere(installed, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(installed)}
    where = subprocess.run([sys.executable, "-c", "import bot.render.templates as t; print(t.builtin_templates_dir())"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    assert Path(where.stdout.strip()) == installed / "bot" / "templates"

    result = subprocess.run([sys.executable, "-m", "bot", "console"], cwd=tmp_path, env=env,
                            input="/share\n:press I shared it\n", capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Share your One Small Step experience" in result.stdout
    assert "Thank you for sharing!" in result.stdout
