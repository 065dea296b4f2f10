"""The deploy files: Dockerfile, packages.txt, requirements.txt and .streamlit/config.toml.

No Docker engine runs here, so the Dockerfile is checked by parsing it and running its steps the
way the image would: its apt packages must exist in Debian's index, and its pip line must
resolve in a fresh venv (``--dry-run``: everything found, nothing installed).
"""
import re
import shlex
import shutil
import subprocess
import sys
import tomllib

import pytest

from tests.conftest import ROOT


def dockerfile() -> dict:
    text = (ROOT / "Dockerfile").read_text()
    text = re.sub(r"\\\n\s*", " ", text)  # join continued lines
    steps = {}
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            keyword, _, rest = line.strip().partition(" ")
            steps.setdefault(keyword.upper(), []).append(rest.strip())
    return steps


def apt_packages(steps) -> list[str]:
    for run in steps["RUN"]:
        for command in run.split("&&"):
            words = shlex.split(command)
            if words[:2] == ["apt-get", "install"]:
                return [w for w in words[2:] if not w.startswith("-")]
    return []


def test_the_image_is_python_311_slim_serving_the_app_with_a_health_check():
    steps = dockerfile()
    assert steps["FROM"] == ["python:3.11-slim-bookworm"]      # the Debian the tests run on
    assert steps["EXPOSE"] == ["8501"]
    assert "/_stcore/health" in steps["HEALTHCHECK"][0]
    command = " ".join(steps["CMD"])
    assert '"streamlit", "run", "app.py"' in command and "--server.port=8501" in command
    assert any("DLSTUDIO_DEMO=1" in env for env in steps["ENV"])
    copied = {c.split()[0] for c in steps["COPY"]}
    for needed in ("app.py", "core", "ui", "views", "checkpoints", ".streamlit", "requirements.txt"):
        assert needed in copied, needed


def test_packages_txt_matches_the_dockerfile_and_exists_in_debian():
    listed = (ROOT / "packages.txt").read_text().split()
    in_docker = apt_packages(dockerfile())
    assert set(listed) <= set(in_docker)
    if shutil.which("apt-cache") is None:
        pytest.skip("no apt-cache on this machine")
    for package in in_docker:
        shown = subprocess.run(["apt-cache", "show", package], capture_output=True, text=True)
        assert shown.returncode == 0 and f"Package: {package}" in shown.stdout, package


def test_requirements_pin_the_runtime_and_config_sets_limits_and_theme():
    pins = dict(line.split("==") for line in (ROOT / "requirements.txt").read_text().splitlines()
                if "==" in line and not line.startswith("#"))
    for package in ("torch", "torchvision", "streamlit", "plotly", "pandas"):
        assert package in pins
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] >= 20
    assert config["theme"]["base"] in ("light", "dark")


def test_the_image_installs_the_cpu_builds_of_the_pinned_torch_and_refuses_cuda():
    """torch and torchvision come first, as +cpu wheels from the CPU index only (never PyPI's
    CUDA build, which an unreachable CPU index silently fell back to: a 6.9 GB image), at the
    versions requirements.txt pins; a later step fails the build if torch has CUDA."""
    runs = dockerfile()["RUN"]
    pins = dict(line.split("==") for line in (ROOT / "requirements.txt").read_text().splitlines()
                if "==" in line and not line.startswith("#"))
    first = next(run for run in runs if run.startswith("pip install"))
    words = shlex.split(first)
    assert "--index-url" in words and "--extra-index-url" not in words
    assert f"torch=={pins['torch']}+cpu" in words
    assert f"torchvision=={pins['torchvision']}+cpu" in words
    later = runs[runs.index(first) + 1:]
    assert any("grep -v" in run and "torch|torchvision" in run for run in later)
    assert any("torch.version.cuda" in run and "sys.exit" in run for run in later)
    assert any("STREAMLIT_CLIENT_SHOW_ERROR_DETAILS=none" in env for env in dockerfile()["ENV"])


@pytest.mark.slow   # 20 s: a fresh venv and a pip resolve
def test_the_dockerfile_pip_step_for_the_rest_resolves_in_a_fresh_venv(tmp_path):
    """The image's second pip step (requirements.txt without torch) in a new venv with
    --dry-run: resolution only, nothing installed. (The CPU wheel index is offline here.)"""
    rest = tmp_path / "requirements-rest.txt"
    lines = [line for line in (ROOT / "requirements.txt").read_text().splitlines()
             if not re.match(r"^(torch|torchvision)==", line)]
    rest.write_text("\n".join(lines) + "\n")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    result = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-r",
                             str(rest), "--dry-run", "--quiet", "--report",
                             str(tmp_path / "report.json")],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    import json
    chosen = {item["metadata"]["name"].lower(): item["metadata"]["version"]
              for item in json.loads((tmp_path / "report.json").read_text())["install"]}
    assert "streamlit" in chosen and "torch" not in chosen     # nothing pulls torch back in


def test_the_toolbar_has_no_deploy_button():
    import tomllib
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["toolbarMode"] == "viewer"
