"""HTML for the few loops that build their markup in Python (the card's timeline, the card
list's rows): a page's heaviest loops cost more through Jinja, a call per value, than the rest
of the page. Every text goes through ``escape_all``, which escapes exactly as Jinja's
autoescape (markupsafe) does."""


def escape_text(text):
    """``text`` escaped for HTML exactly as markupsafe escapes it."""
    return (str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&#34;").replace("'", "&#39;"))


def escape_all(texts):
    """Every text escaped, in one pass: joined by NUL, which no stored text holds (the
    services refuse it), escaped once, split again; should a NUL ever be there, one by one."""
    texts = [str(text) for text in texts]
    escaped = escape_text("\x00".join(texts)).split("\x00")
    return escaped if len(escaped) == len(texts) else [escape_text(text) for text in texts]
