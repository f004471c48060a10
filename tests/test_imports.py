"""Import costs are designed: the hot path stays light.

Which package may import which is checked by the import contracts in pyproject.toml.
"""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
from pathlib import Path

import pytest
from tests.support.environment import clean_env
from tests.support.threaded_server import serving

HEAVY = (
    "mcp",
    "pydantic",
    "sqlalchemy",
    "fastapi",
    "httpx",
    "httpx2",
    "toon_format",
    "yaml",
    "link_cli.wallet",
    "link_cli.sdk",
    "starlette",
    "qrcode",
    # merchant inspect's parsers load only when it runs
    "selectolax",
    "protego",
    "publicsuffixlist",
    "link_cli.inspection",
)

_PROBE = """
import io, json, sys
from link_cli.cli.main import run
out = io.StringIO()
code = run(sys.argv[1:], out)
print(out.getvalue(), file=sys.stderr)
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def _loaded_modules(*argv: str, **link_env: str) -> set[str]:
    env = clean_env()
    env.update(link_env)
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["code"] == 0, result.stderr
    return set(report["modules"])


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["spend-request", "create", "--help"]])
def test_version_and_help_leave_heavy_modules_unloaded(argv):
    modules = _loaded_modules(*argv)
    loaded = sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))
    assert loaded == []


# Modules an API call must not pay for: the annotations-only `typing`, urllib.request's
# extras (tempfile, hashlib, compression), dataclasses/inspect, and the heavy set above.
NOT_ON_THE_REQUEST_PATH = (
    *(name for name in HEAVY if name != "link_cli.sdk"),
    "typing",
    "urllib.request",
    "tempfile",
    "hashlib",
    "bz2",
    "lzma",
    "dataclasses",
    "inspect",
)


class _SpendRequestHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"id": "lsrq_1", "status": "approved", "amount": 1500}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize(
    ("argv", "sends_a_request"),
    [
        (["spend-request", "retrieve", "lsrq_1", "--format", "json"], True),
        (["auth", "status", "--format", "json"], False),  # purely local (contract §3.3)
    ],
)
def test_an_api_call_leaves_typing_and_urllib_request_unloaded(argv, sends_a_request):
    server = http.server.HTTPServer(("127.0.0.1", 0), _SpendRequestHandler)
    with serving(server):
        url = f"http://127.0.0.1:{server.server_address[1]}"
        modules = _loaded_modules(
            *argv, LINK_API_BASE_URL=url, LINK_AUTH_BASE_URL=url, LINK_ACCESS_TOKEN="at_x"
        )
    assert ("http.client" in modules) is sends_a_request
    loaded = sorted(
        m for m in modules if any(m == h or m.startswith(h + ".") for h in NOT_ON_THE_REQUEST_PATH)
    )
    assert loaded == []


def test_the_console_script_prints_the_version():
    from link_cli import __version__

    script = Path(sys.executable).with_name("link-cli")
    result = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout) == (0, __version__ + "\n")


def test_the_mpp_codec_leaves_typing_dataclasses_and_decimal_unloaded():
    # mpp pay and mpp decode run the codec; a paid request costs about what the same two
    # requests cost with the standard library (bench/mpp_pay.py) only without these imports.
    from link_cli.mpp._wire import encode_b64_json
    from link_cli.mpp.challenge import Challenge, format_www_authenticate
    from link_cli.mpp.methods.stripe import build_charge_request

    request = build_charge_request(amount=250, currency="usd", network_id="profile_x")
    challenge = Challenge("ch_1", "api.example", "stripe", "charge", encode_b64_json(request))
    modules = _loaded_modules("mpp", "decode", "--challenge", format_www_authenticate([challenge]))
    assert "link_cli.mpp.methods.stripe" in modules
    unwanted = ("typing", "dataclasses", "inspect", "decimal")
    assert sorted(m for m in modules if m in unwanted) == []
