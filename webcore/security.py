"""Security headers on every response, and CSRF on every state-changing request."""
from flask import request
from flask_wtf.csrf import CSRFProtect, generate_csrf

from webcore import requestcache

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
       "form-action 'self'; frame-ancestors 'none'")


def init_app(app):
    CSRFProtect(app)
    field_name = app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")

    def csrf_token():
        """Flask-WTF's ``generate_csrf`` (the request's token, made once and kept in ``g``),
        read straight from ``g`` after the first call: a page asks for it in every form."""
        return requestcache.cached(field_name) or generate_csrf()

    app.jinja_env.globals["csrf_token"] = csrf_token

    @app.after_request
    def _headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config.get("SESSION_COOKIE_SECURE"):
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if request.endpoint != "static":
            # Pages carry personal data: never keep them in a shared or browser cache.
            headers["Cache-Control"] = "no-store"
        return response

