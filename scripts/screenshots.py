"""Regenerate the README screenshots from a fresh demo instance (`cards serve` + Chromium).

    .venv/bin/python scripts/screenshots.py

Starts `cards serve` on a free 127.0.0.1 port with a temporary instance folder (demo data on
first run), signs in as the demo admin and a demo customer, and writes docs/screenshots/*.png.
"""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(instance):
    port = free_port()
    # The demo admin has no authenticator app here: screenshots skip the 2FA enrolment step
    # (a throwaway instance; never switch REQUIRE_ADMIN_2FA off in production).
    env = {**os.environ, "CC_INSTANCE_DIR": instance, "PYTHONUNBUFFERED": "1",
           "REQUIRE_ADMIN_2FA": "0"}
    for name in ("DATABASE_URL", "HUEY_URL", "HUEY_IMMEDIATE", "MAIL_URL"):
        env.pop(name, None)
    cards = str(Path(sys.executable).with_name("cards"))
    process = subprocess.Popen([cards, "serve", "--port", str(port)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=1)
            return process, base
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("cards serve did not start: " + process.stdout.read())


def sign_in(page, url, email, password):
    page.goto(url)
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def main():
    from services.demo import DEMO_PASSWORD
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as instance:
        process, base = start_server(instance)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                for lang, locale in (("zh", "zh-CN"), ("en", "en-US")):
                    staff = browser.new_page(viewport={"width": 1280, "height": 800},
                                             locale=locale)
                    # the demo admin works in Chinese, the demo viewer in English
                    sign_in(staff, f"{base}/staff/login",
                            "admin@example.com" if lang == "zh" else "viewer@example.com",
                            DEMO_PASSWORD)
                    staff.screenshot(path=OUT / f"staff-dashboard-{lang}.png")
                    staff.goto(f"{base}/staff/cards/")
                    staff.screenshot(path=OUT / f"staff-cards-{lang}.png")
                    card = staff.locator("table a").first.get_attribute("href")
                    staff.goto(base + card)
                    staff.screenshot(path=OUT / f"staff-card-{lang}.png", full_page=True)
                    phone = browser.new_page(viewport={"width": 390, "height": 844},
                                             locale=locale, is_mobile=True, has_touch=True)
                    email = "wangfang@example.com" if lang == "zh" else "emma.wilson@example.com"
                    sign_in(phone, f"{base}/login", email, DEMO_PASSWORD)
                    phone.screenshot(path=OUT / f"portal-home-{lang}.png", full_page=True)
                browser.close()
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=20)
    print("\n".join(sorted(str(p.relative_to(ROOT)) for p in OUT.glob("*.png"))))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
