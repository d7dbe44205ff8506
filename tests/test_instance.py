"""Every `flask --app wsgi` command works against `make run`'s embedded default with no variables
set: the instance's settings are found in instance/settings.env (casework/instance.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from casework import embedded, instance

ROOT = Path(__file__).resolve().parent.parent


def test_settings_complete_the_environment_and_never_override_it(tmp_path):
    instance.write_settings(tmp_path, {"CASEWORK_ENV": "development", "CASEWORK_PORT": "5001"})
    environ = {"CASEWORK_INSTANCE_DIR": str(tmp_path), "CASEWORK_PORT": "6000"}
    assert instance.apply(environ) is True
    assert environ["CASEWORK_ENV"] == "development" and environ["CASEWORK_PORT"] == "6000"


def test_without_settings_nothing_changes(tmp_path):
    environ = {"CASEWORK_INSTANCE_DIR": str(tmp_path)}
    assert instance.apply(environ) is False and environ == {"CASEWORK_INSTANCE_DIR": str(tmp_path)}


def _flask(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A command as a user types it: no DATABASE_URL, REDIS_URL or CASEWORK_* variables."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("CASEWORK_") and k not in ("DATABASE_URL", "REDIS_URL")
    }
    env["CASEWORK_INSTANCE_DIR"] = str(directory)  # instead of the repository's own instance/
    env["CASEWORK_ARGON2_MEMORY_COST"] = "8192"  # cheaper hashing; not a connection setting
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_commands_work_against_a_running_embedded_instance_with_no_variables():
    """As while `make run` runs: its embedded servers are up (held here) and each command reuses them."""
    directory = Path(tempfile.mkdtemp(prefix="casework-instance-"))
    servers = embedded.start(directory)
    try:
        instance.write_settings(directory, {"CASEWORK_ENV": "development", instance.EMBEDDED: "1"})
        email = "investigator@casework.demo"
        steps = [
            ("db", "upgrade"),
            ("orgs", "create", "--name", "Demo unit", "--kind", "police_unit", "--code", "D11"),
            (
                "users",
                "create",
                "--email",
                email,
                "--name",
                "Demo",
                "--role",
                "investigator",
                "--org",
                "D11",
                "--password",
                "first long passphrase 1",
            ),
            ("users", "set-password", email, "--password", "second long passphrase 2"),
        ]
        for step in steps:
            done = _flask(directory, *step)
            assert done.returncode == 0, (step, done.stdout[-2000:], done.stderr[-2000:])
        assert f"password set for {email}" in done.stdout
    finally:
        servers.stop()
        shutil.rmtree(directory, ignore_errors=True)
