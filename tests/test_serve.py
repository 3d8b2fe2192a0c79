"""`cards serve` on a fresh instance: migrates, loads the demo, prints the URLs and sign-ins,
serves both apps on 127.0.0.1, and the demo admin can sign in."""
import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from tests.conftest import _free_port

CARDS = str(Path(sys.executable).with_name("cards"))


def _wait_for(url, process, seconds=90):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited early: {process.stdout.read()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {seconds} s")


def test_serve_starts_everything_on_a_fresh_instance(database_url, tmp_path):
    port = _free_port()
    env = {**os.environ, "CC_INSTANCE_DIR": str(tmp_path), "DATABASE_URL": database_url,
           "HUEY_URL": f"sqlite:///{tmp_path}/jobs.db", "PYTHONUNBUFFERED": "1"}
    env.pop("HUEY_IMMEDIATE", None)
    process = subprocess.Popen([CARDS, "serve", "--port", str(port)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        assert _wait_for(f"{base}/healthz", process) == 200
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = opener.open(f"{base}/staff/login").read().decode()
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        from services import demo
        form = urllib.parse.urlencode({"csrf_token": token, "email": "admin@example.com",
                                       "password": demo.DEMO_PASSWORD}).encode()
        dashboard = opener.open(f"{base}/staff/login", data=form)
        # Admins must use 2FA: the demo admin enrols first (QR code and key on the page).
        assert dashboard.url == f"{base}/staff/account/two-factor"
        token = re.search(r'name="csrf-token" content="([^"]+)"',
                          dashboard.read().decode()).group(1)  # a new session, a new token
        start = urllib.parse.urlencode({"csrf_token": token}).encode()
        page = opener.open(f"{base}/staff/account/two-factor/start", data=start).read().decode()
        secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
        import pyotp
        confirm = urllib.parse.urlencode({"csrf_token": token,
                                          "code": pyotp.TOTP(secret).now()}).encode()
        opener.open(f"{base}/staff/account/two-factor/confirm", data=confirm)
        cards = opener.open(f"{base}/staff/cards/").read().decode()
        assert cards.count('href="/staff/cards/') >= 50
    finally:
        process.send_signal(signal.SIGINT)
        try:
            output, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
    assert f"{base}/" in output and f"{base}/staff/" in output
    assert "admin@example.com" in output and demo.DEMO_PASSWORD in output
    assert "Traceback" not in output
