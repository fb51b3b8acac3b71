"""Start moto's HTTP server on loopback and point every boto3 client at it.

Tests, the demo and the benchmarks all talk to AWS through the standard
``AWS_ENDPOINT_URL`` variable, exactly as the function would talk to AWS: no
client is patched. The instance-refresh emulation is installed before the server
starts so that it answers over HTTP like any other Auto Scaling action.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import requests
from moto.server import ThreadedMotoServer

from devkit.aws import authorization, rate_model

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account

#: Environment every AWS client needs to reach the emulator and nothing else.
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",  # moto's dummy credentials
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class AwsEmulator:
    """A running moto server with the instance-refresh emulation installed."""

    def __init__(self) -> None:
        from devkit.aws import (
            cloudwatch_api,
            events_rules,
            groups_api,
            iam_simulate,
            mute_rules,
            organization,
            refresh_api,
            sns_api,
            sns_subscriptions,
            sts_api,
            tags_api,
        )

        refresh_api.install()
        cloudwatch_api.install()
        mute_rules.install()
        tags_api.install()
        groups_api.install()
        events_rules.install()
        sns_api.install()
        sns_subscriptions.install()
        iam_simulate.install()
        organization.install()
        sts_api.install()
        self.port = _free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)

    def start(self) -> AwsEmulator:
        self._server.start()
        # AWS throttles per account, whoever calls, so the rate model sits in the server, in front of moto.
        # moto builds its WSGI app inside the server thread (ThreadedMotoServer._server_entry) and offers no
        # hook; werkzeug's server looks up ``.app`` for every request, so wrapping it here covers every
        # backend without copying moto's start-up. Nobody knows the port before start() returns.
        wsgi_server = self._server._server
        assert wsgi_server is not None
        wsgi_server.app = rate_model.RateLimitedApp(wsgi_server.app)
        # IAM decides before any quota is drawn: a refused request never reaches moto nor takes a token.
        wsgi_server.app = authorization.AuthorizingApp(wsgi_server.app)
        return self

    def stop(self) -> None:
        self._server.stop()

    def reset(self) -> None:
        """Forget every resource (moto's reset API), including emulated refreshes."""
        requests.post(f"{self.endpoint_url}/moto-api/reset", timeout=10).raise_for_status()

    @property
    def environment(self) -> dict[str, str]:
        """Variables that send boto3 (in this or a child process) to the emulator."""
        return {**FAKE_CREDENTIALS, "AWS_ENDPOINT_URL": self.endpoint_url}


@contextmanager
def patched_environ(values: Mapping[str, str | None]) -> Iterator[None]:
    """Set (or, for None, remove) environment variables, and restore them all afterwards."""
    saved = {key: os.environ.get(key) for key in values}
    try:
        for key, value in values.items():
            _set(key, value)
        yield
    finally:
        for key, value in saved.items():
            _set(key, value)


def _set(key: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(key, None)
    else:
        os.environ[key] = value


@contextmanager
def running_emulator() -> Iterator[AwsEmulator]:
    """Start the emulator, export its environment, and restore everything afterwards."""
    emulator = AwsEmulator().start()
    try:
        with patched_environ(emulator.environment):
            yield emulator
    finally:
        emulator.stop()
