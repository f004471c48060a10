"""``link-cli mpp pay`` against a local 402 endpoint, beside the same two HTTP requests made
directly with the standard library.

Starts a ``link-wallet`` and logs an agent in (tests/support, as cli_startup.py does), has the
person approve one shared-payment-token spend request, and serves a local paid endpoint
(``http.server`` in a thread) that answers an unpaid GET with a real MPP 402 challenge
(``link_cli.mpp.server.PaymentServer``, HMAC-bound) and a paid one, after verifying the
credential (binding, expiry, payload), with 200. It neither settles the token nor marks a
challenge used, so the one approved spend request, and the baseline's one credential built
beforehand, pay every run.

Measured per run, whole process wall time (median of ``--runs`` after warm-ups):

* ``link-cli mpp pay <url> --spend-request-id <id>``: the wallet retrieve that checks the
  spend request, the probe (402), the paid retry (200), and process start;
* the baseline: ``python -c`` making the same two requests to the endpoint with
  ``http.client`` (the probe, then the retry with a credential built beforehand), and the
  same plus the wallet retrieve (three requests: what the command must send).

Goal: ``mpp pay`` <= 1.5x the two-request baseline.

    .venv/bin/python bench/mpp_pay.py [--runs 15]
"""

from __future__ import annotations

import argparse
import compileall
import http.server
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.cli_startup import Runner, load_average  # noqa: E402

GOAL_RATIO = 1.5
PRICE = 250

# The baseline: the probe and the paid retry with http.client, nothing else.
_DIRECT = r"""
import http.client, sys, json
host, port, path, authorization = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
connection = http.client.HTTPConnection(host, port, timeout=30)
connection.request("GET", path)
probe = connection.getresponse(); probe.read()
assert probe.status == 402, probe.status
challenge = probe.getheader("WWW-Authenticate")
connection.request("GET", path, headers={"Authorization": authorization})
paid = connection.getresponse(); body = paid.read()
assert paid.status == 200, (paid.status, body)
"""

# The baseline with the wallet retrieve the command makes first.
_DIRECT_WITH_WALLET = r"""
import http.client, sys, json
host, port, path, authorization = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
wallet_port, request_id, token = int(sys.argv[5]), sys.argv[6], sys.argv[7]
wallet = http.client.HTTPConnection(host, wallet_port, timeout=30)
wallet.request("GET", f"/spend_requests/{request_id}?include=shared_payment_token",
               headers={"Authorization": f"Bearer {token}"})
found = wallet.getresponse(); json.loads(found.read())
assert found.status == 200, found.status
connection = http.client.HTTPConnection(host, port, timeout=30)
connection.request("GET", path)
probe = connection.getresponse(); probe.read()
assert probe.status == 402, probe.status
connection.request("GET", path, headers={"Authorization": authorization})
paid = connection.getresponse(); body = paid.read()
assert paid.status == 200, (paid.status, body)
"""


class _NoReplayMark:
    def put_if_absent(self, key: str, expires_at: float) -> bool:
        return True

    def delete(self, key: str) -> None:
        return None


class PaidEndpoint(http.server.ThreadingHTTPServer):
    """GET /paid: 402 with a challenge unless a valid credential comes with the request."""

    daemon_threads = True

    def __init__(self, network_id: str) -> None:
        from link_cli.mpp.methods.stripe import build_charge_request
        from link_cli.mpp.server import PaymentServer

        super().__init__(("127.0.0.1", 0), _Handler)
        # No replay mark: the baseline re-sends one credential built before the runs.
        self.payments = PaymentServer(
            secret=b"bench-challenge-secret-0123456789", realm="bench", store=_NoReplayMark()
        )
        self.charge = build_charge_request(
            amount=PRICE,
            currency="usd",
            network_id=network_id,
            payment_method_types=["card"],
            description="Bench item",
        )
        self.paid = 0

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # head and body are two writes: no delayed-ACK stall
    server: PaidEndpoint

    def log_message(self, *args: Any) -> None:
        return None

    def do_GET(self) -> None:
        from link_cli.mpp.methods.stripe import CHARGE, METHOD, parse_charge_payload
        from link_cli.mpp.server import PaymentProblem, payment_required_response

        authorization = self.headers.get("Authorization")
        try:
            self.server.payments.verify(
                authorization,
                method=METHOD,
                intent=CHARGE,
                request=self.server.charge,
                check_payload=lambda c: parse_charge_payload(c.payload, c.challenge),
            )
        except PaymentProblem as refused:
            challenge = self.server.payments.issue(
                method=METHOD, intent=CHARGE, request=self.server.charge
            )
            answer = payment_required_response([challenge], refused.problem)
            self._send(answer.status, list(answer.headers), answer.body)
            return
        self.server.paid += 1
        self._send(200, [("Content-Type", "application/json")], b'{"paid":true}')

    def _send(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def credential_for(endpoint: PaidEndpoint, spt: str) -> str:
    """An Authorization value answering a fresh challenge of ``endpoint`` with ``spt``."""
    from link_cli.mpp.credential import format_authorization
    from link_cli.mpp.methods.stripe import CHARGE, METHOD, build_credential

    challenge = endpoint.payments.issue(method=METHOD, intent=CHARGE, request=endpoint.charge)
    return format_authorization(build_credential(challenge, spt))


def median_wall(runner: Runner, argv: list[str], env: dict[str, str], runs: int) -> float:
    for _ in range(2):
        runner.measure(argv, env)
    samples = []
    for _ in range(runs):
        wall, _, code, _ = runner.measure(argv, env)
        if code != 0:
            raise RuntimeError(f"{argv[:3]} exited with {code}")
        samples.append(wall)
    return statistics.median(samples)


def importtime_report(stderr: str, count: int) -> str:
    """The ``count`` imports with the largest own time from ``-X importtime`` output, and
    the total, as lines."""
    rows = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, cumulative, name = (part.strip() for part in line[len("import time:") :].split("|"))
        rows.append((int(own), int(cumulative), name))
    total = sum(own for own, _, _ in rows)
    lines = [f"imports: {len(rows)} modules, {total / 1000:.1f} ms in all (own time)"]
    for own, cumulative, name in sorted(rows, reverse=True)[:count]:
        lines.append(f"  {own / 1000:6.1f} ms own  {cumulative / 1000:6.1f} ms cumulative  {name}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument(
        "--profile", action="store_true", help="also print one mpp pay run's cProfile (top 30)"
    )
    parser.add_argument(
        "--importtime",
        action="store_true",
        help="also print one mpp pay run's 30 costliest imports (python -X importtime)",
    )
    args = parser.parse_args()

    from tests.merchant.buyer import logged_in_buyer
    from tests.support.agent import LINK_CLI
    from tests.support.threaded_server import serving
    from tests.support.wallet import WalletProcess

    compileall.compile_dir(str(REPO / "src" / "link_cli"), quiet=1)  # as cli_startup.py
    with (
        tempfile.TemporaryDirectory(prefix="mpp-pay-bench-") as tmp,
        WalletProcess.start(Path(tmp) / "wallet") as wallet,
        logged_in_buyer(wallet, Path(tmp)) as buyer,
    ):
        merchant = wallet.store().create_merchant(
            "Bench Seller", "profile_bench_seller", livemode=True
        )
        request_id, spt = buyer.approved_spt(network_id=merchant["network_id"], amount=PRICE)
        endpoint = PaidEndpoint(merchant["network_id"])
        with serving(endpoint):
            url = f"http://127.0.0.1:{endpoint.port}/paid"
            env = buyer.agent.env()
            access = json.loads(buyer.agent.auth_file.read_text())["auth"]["access_token"]
            authorization = credential_for(endpoint, spt)
            direct = [sys.executable, "-c", _DIRECT, "127.0.0.1", str(endpoint.port), "/paid"]
            wallet_port = wallet.url.rsplit(":", 1)[1]
            cases = [
                ("python -c pass (interpreter floor)", [sys.executable, "-c", "pass"]),
                ("stdlib: probe + paid retry (baseline)", [*direct, authorization]),
                (
                    "stdlib: wallet retrieve + probe + retry",
                    [
                        sys.executable,
                        "-c",
                        _DIRECT_WITH_WALLET,
                        "127.0.0.1",
                        str(endpoint.port),
                        "/paid",
                        authorization,
                        wallet_port,
                        request_id,
                        access,
                    ],
                ),
                (
                    "link-cli mpp pay --spend-request-id",
                    [LINK_CLI, "mpp", "pay", url, "--spend-request-id", request_id],
                ),
            ]
            print(f"mpp pay, median wall of {args.runs} runs; load average {load_average()}")
            runner = Runner()
            walls = {}
            for name, argv in cases:
                walls[name] = median_wall(runner, argv, env, args.runs)
                print(f"  {name:42} {walls[name]:7.1f} ms")
            runner.close()
            paid_before = endpoint.paid
            if args.profile:
                import subprocess

                profiled = subprocess.run(
                    [sys.executable, "-m", "cProfile", "-s", "cumulative", *cases[-1][1]],
                    capture_output=True,
                    text=True,
                    env=env,
                    check=True,
                )
                print("\n".join(profiled.stdout.splitlines()[:45]))
            if args.importtime:
                import subprocess

                traced = subprocess.run(
                    [sys.executable, "-X", "importtime", *cases[-1][1]],
                    capture_output=True,
                    text=True,
                    env=env,
                    check=True,
                )
                print(importtime_report(traced.stderr, 30))
        baseline = walls["stdlib: probe + paid retry (baseline)"]
        mine = walls["link-cli mpp pay --spend-request-id"]
        with_wallet = walls["stdlib: wallet retrieve + probe + retry"]
        print(f"  (the endpoint answered {paid_before} paid requests)")
        print(f"mpp pay / two stdlib requests: {mine / baseline:.2f}x (goal <= {GOAL_RATIO}x)")
        print(f"mpp pay / the same three requests with stdlib: {mine / with_wallet:.2f}x")
        print(f"goal {'met' if mine <= GOAL_RATIO * baseline else 'NOT met'}")
        print(f"load average after: {load_average()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
