"""The settings the services read (mail transport, base URLs, locale defaults).

Set once at start-up by the app factory or the CLI, like the database proxy; services never
reach into Flask's ``current_app`` for them.
"""
import config

settings = {}


def configure(values):
    settings.clear()
    settings.update(values)
    return settings


def get(key):
    if not settings:
        configure(config.load())
    return settings[key]
