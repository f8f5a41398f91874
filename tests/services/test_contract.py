"""The whole OpenAPI, fuzzed by schemathesis against a running ``vpp serve``: no server errors,
no undocumented status codes, responses that match their schemas, correct ``Allow`` headers.

``positive_data_acceptance`` is left out on purpose: the service rejects some schema-valid
bodies for reasons a JSON Schema cannot state (a VPP naming a park that is not stored, an event
window that does not fit the day), and answers those with a documented 422 problem.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest


@pytest.mark.slow
def test_schemathesis_over_the_whole_api(tmp_path: Path) -> None:
    bindir = Path(sys.executable).parent
    st = bindir / "schemathesis"
    if not st.exists():
        st_path = shutil.which("schemathesis")
        if st_path is None:
            pytest.skip("schemathesis is not installed (it is in the dev extra)")
        st = Path(st_path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("VPP_")}
    vpp = str(bindir / "vpp")
    creds = [  # between these roles every route is reachable; the station's only as 403/404
        json.loads(
            subprocess.run(
                [vpp, "credentials", "create", "--role", role, "--organisation", "o"],
                cwd=tmp_path,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        for role in ("operator", "grid", "station")
    ]
    server = subprocess.Popen(
        [str(bindir / "vpp"), "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/openapi.json")
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        for cred in creds:
            token = httpx.post(
                f"{base}/oauth/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": cred["client_id"],
                    "client_secret": cred["client_secret"],
                },
            ).json()["access_token"]
            run = subprocess.run(
                [
                    str(st),
                    "run",
                    f"{base}/openapi.json",
                    "-H",
                    f"Authorization: Bearer {token}",
                    "--checks",
                    "all",
                    "--exclude-checks",
                    "positive_data_acceptance",
                    "--max-examples",
                    "6",
                    "--seed",
                    "1",
                ],
                capture_output=True,
                text=True,
                timeout=900,
                env={**env, "NO_COLOR": "1"},
            )
            assert run.returncode == 0, run.stdout[-4000:]
            assert "passed" in run.stdout
    finally:
        server.terminate()
        server.wait(timeout=30)
