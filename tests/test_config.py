"""Settings: development works with nothing set; production refuses to start without secrets."""
import pytest

import config
from services.jobs import make_huey


def test_production_requires_a_secret_key(monkeypatch):
    monkeypatch.setenv("CC_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(config.ConfigError, match="SECRET_KEY"):
        config.load()
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    settings = config.load()
    assert settings["SESSION_COOKIE_SECURE"] is True and settings["DEMO_DATA"] is False


def test_development_defaults(monkeypatch):
    for name in ("CC_ENV", "DATABASE_URL", "MAIL_URL", "DEFAULT_LOCALE", "TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    settings = config.load()
    assert settings["DATABASE_URL"].startswith("sqlite:///")
    assert settings["MAIL_URL"] == "outbox"
    assert settings["BABEL_DEFAULT_LOCALE"] == "zh"
    assert settings["BABEL_DEFAULT_TIMEZONE"] == "Asia/Shanghai"


def test_bad_numbers_are_refused_with_the_variable_name(monkeypatch):
    monkeypatch.setenv("SESSION_IDLE_MINUTES", "thirty")
    with pytest.raises(config.ConfigError, match="SESSION_IDLE_MINUTES"):
        config.load()


def test_job_queue_follows_huey_url(tmp_path):
    from huey import RedisHuey, SqliteHuey
    assert isinstance(make_huey(f"sqlite:///{tmp_path}/jobs.db"), SqliteHuey)
    assert isinstance(make_huey("redis://127.0.0.1:6379/0"), RedisHuey)
    assert make_huey("sqlite:///x", immediate=True).immediate
    with pytest.raises(ValueError):
        make_huey("ftp://nowhere")
