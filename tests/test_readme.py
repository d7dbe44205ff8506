"""The README's quick start runs as written (bash and curl against a real server), and its links
and source codes resolve inside the repository."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from casework.extensions import db
from casework.models.organisations import OrganisationKind
from casework.models.users import Role
from casework.services import mfa
from tests.helpers import Factory

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
PASSWORD = "a quick start passphrase 2026"


def quick_start_blocks(name: str) -> str:
    """The shell code of the README section between <!-- quick-start:NAME --> markers."""
    section = re.search(rf"<!-- quick-start:{name} -->(.*?)<!-- /quick-start:{name} -->", README, re.S)
    assert section, f"README lost its quick-start:{name} section"
    return "\n".join(re.findall(r"```sh\n(.*?)```", section.group(1), re.S))


@pytest.mark.committing
@pytest.mark.skipif(shutil.which("curl") is None or shutil.which("bash") is None, reason="needs bash and curl")
def test_the_quick_start_runs_as_written(app_ctx: Flask, factory: Factory, tmp_path: Path) -> None:
    unit = factory.organisation(OrganisationKind.POLICE_UNIT, code="D11", name="D11 (quick start)")
    supervisor = factory.user(Role.SUPERVISOR, unit, email="supervisor@casework.demo", password=PASSWORD)
    enrolment, _ = mfa.enrol_by_operator(supervisor, recovery_codes=False)
    db.session.commit()
    server = make_server("127.0.0.1", 0, app_ctx, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        script = "set -euo pipefail\n" + quick_start_blocks("login") + "\n" + quick_start_blocks("session")
        done = subprocess.run(  # noqa: S603 - the README's own commands
            ["bash", "-c", script],  # noqa: S607
            cwd=tmp_path,
            env={
                "PATH": "/usr/local/bin:/usr/bin:/bin",
                "BASE": f"http://127.0.0.1:{server.server_port}/api/v1",
                "EMAIL": supervisor.email,
                "PASSWORD": PASSWORD,
                "TOTP_SECRET": enrolment.secret,
                "PY": sys.executable,
            },
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        server.shutdown()
        thread.join(timeout=10)
    assert done.returncode == 0, (done.stdout, done.stderr)
    lines = done.stdout.splitlines()
    assert lines[0] == "D11-2026-000001 PC 376(1)"
    assert lines[1] == "1 case(s) name this phone"
    assert lines[2] == "['D11-2026-000001']"
    assert "Offences" in lines[3] and "Unidentified victims" in lines[3]


def test_readme_links_resolve_inside_the_repository() -> None:
    outside = re.findall(r"(?<![.\w])\.\./[\w./-]+", README)  # ../shared/..., not ".../consents"
    assert not outside, f"the README refers to files outside the repository: {outside}"
    links = re.findall(r"\]\(([^)#\s]+)", README)
    paths = re.findall(r"`((?:casework|seed|reports|tests|bench|migrations)/[\w./-]+\.\w+)`", README)
    for target in [*links, *paths]:
        if target.startswith(("http://", "https://")):
            continue
        assert (ROOT / target).exists(), target


def test_every_source_code_of_the_reference_data_can_be_looked_up() -> None:
    listed = set(re.findall(r"\*\*(R\d+)\*\*", (ROOT / "seed" / "data" / "SOURCES.md").read_text(encoding="utf-8")))
    for data in (ROOT / "seed" / "data").glob("*.*"):
        if data.name == "SOURCES.md":
            continue
        cited = set(re.findall(r"\b(R\d{1,3})\b", data.read_text(encoding="utf-8")))
        assert cited <= listed, (data.name, sorted(cited - listed))
