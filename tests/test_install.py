"""What each install brings: the SDK alone, the service for `make run`, the tools for tests.

Each test builds a fresh virtualenv with uv from its cache (``--offline``: the
packages `make test` already fetched), so nothing here reaches a registry.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VENV = Path(sys.executable).parent

pytestmark = pytest.mark.slow


def _uv() -> str:
    found = shutil.which("uv", path=str(VENV)) or shutil.which("uv")
    if found is None:
        pytest.fail("uv is not installed: run the tests with `make test`")
    return found


def _run(*command: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, f"{command}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _python(env_dir: Path, code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(env_dir / "bin" / "python"), "-c", code],
        cwd=env_dir,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _installed(env_dir: Path) -> set[str]:
    listing = _run(_uv(), "pip", "list", "--python", str(env_dir / "bin" / "python"))
    return {line.split()[0].lower() for line in listing.splitlines()[2:] if line.strip()}


@pytest.fixture(scope="module")
def sdk_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean venv with the built wheel and only the dependencies it declares."""
    home = tmp_path_factory.mktemp("sdk")
    _run(_uv(), "build", "--wheel", "--offline", "--quiet", "-o", str(home / "dist"))
    [wheel] = (home / "dist").glob("sealtrail-*.whl")
    env_dir = home / "venv"
    environment = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(env_dir)}
    environment.pop("VIRTUAL_ENV", None)
    # The project's own dependencies, as locked, and no extra or group.
    _run(
        _uv(),
        "sync",
        "--quiet",
        "--frozen",
        "--offline",
        "--no-dev",
        "--no-install-project",
        "--python",
        sys.executable,
        env=environment,
    )
    python = str(env_dir / "bin" / "python")
    _run(
        _uv(), "pip", "install", "--quiet", "--offline", "--no-deps", "--python", python, str(wheel)
    )
    return env_dir


def test_the_sdk_install_holds_the_client_and_no_server(sdk_only: Path) -> None:
    installed = _installed(sdk_only)
    assert "sealtrail" in installed
    assert {"httpx", "orjson", "uuid-utils"} <= installed
    server = {"fastapi", "uvicorn", "sqlalchemy", "alembic", "jinja2", "cryptography", "click"}
    assert installed.isdisjoint(server | {"pytest", "mypy", "playwright", "flask", "django"})


def test_the_client_and_the_framework_free_middleware_import(sdk_only: Path) -> None:
    done = _python(
        sdk_only,
        "import sealtrail\n"
        "from sealtrail import AsyncClient, Client, context\n"
        "from sealtrail.integrations.asgi import SealtrailMiddleware\n"
        "from sealtrail.integrations.wsgi import SealtrailWSGIMiddleware\n"
        "with context(tenant='acme'):\n"
        "    Client('http://127.0.0.1:9', 'key').close()\n"
        "print('ok')\n",
    )
    assert done.stdout == "ok\n", done.stderr


@pytest.mark.parametrize(
    "statement",
    [
        "import sealtrail.server",
        "import sealtrail.cli",
        "sealtrail.AuditLog",
        "import sealtrail.server.app",
    ],
)
def test_importing_the_service_names_the_extra(sdk_only: Path, statement: str) -> None:
    done = _python(sdk_only, f"import sealtrail\n{statement}\n")
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("ModuleNotFoundError: the Sealtrail service needs the server extra")
    assert last.endswith("pip install 'sealtrail[server]'")


def test_the_framework_middleware_imports_beside_the_hosts_framework(sdk_only: Path) -> None:
    """A Flask or Django host brings its framework; the middleware needs nothing more."""
    environment = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(sdk_only)}
    environment.pop("VIRTUAL_ENV", None)
    _run(
        _uv(),
        "sync",
        "--quiet",
        "--frozen",
        "--offline",
        "--inexact",
        "--no-install-project",
        "--only-group",
        "dev",
        "--python",
        sys.executable,
        env=environment,
    )
    assert "fastapi" not in _installed(sdk_only)
    done = _python(
        sdk_only,
        "import sealtrail.integrations.django, sealtrail.integrations.flask\n"
        "from sealtrail.integrations.flask import Sealtrail\n"
        "from sealtrail.integrations.django import SealtrailMiddleware\n"
        "print('ok')\n",
    )
    assert done.stdout == "ok\n", done.stderr


def test_make_run_installs_the_service_without_the_development_tools(tmp_path: Path) -> None:
    """The install command `make run` depends on, run into a fresh venv."""
    dry = _run("make", "-n", "-B", ".venv/.synced-runtime")
    [sync] = [line for line in dry.splitlines() if " sync " in line]
    assert "--no-dev" in sync
    env_dir = tmp_path / "venv"
    _run(_uv(), "venv", "--quiet", "--offline", "--python", sys.executable, str(env_dir))
    command = sync.replace(f"VIRTUAL_ENV={ROOT / '.venv'}", f"VIRTUAL_ENV={env_dir}")
    command = command.replace(".venv/bin/uv", _uv())
    assert f"VIRTUAL_ENV={env_dir} " in command
    _run("sh", "-c", f"{command} --offline")
    installed = _installed(env_dir)
    assert {"sealtrail", "fastapi", "uvicorn", "sqlalchemy", "psycopg"} <= installed
    assert installed.isdisjoint({"pytest", "mypy", "ruff", "playwright", "hypothesis", "django"})
    help_text = subprocess.run(
        [str(env_dir / "bin" / "sealtrail"), "demo", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert "demo" in help_text
