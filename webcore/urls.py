"""Redirect targets: only relative paths inside the app are followed."""
from urllib.parse import urlsplit

from flask import request


def safe_next(target):
    """``target`` if it is a relative path on this app, else None (no open redirects)."""
    if not target or not isinstance(target, str) or len(target) > 2000:
        return None
    if any(ch in target for ch in "\\\r\n\t\x00") or not target.startswith("/"):
        return None
    if target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    root = request.script_root
    if root and not (target == root or target.startswith(root + "/")):
        return None
    return target
