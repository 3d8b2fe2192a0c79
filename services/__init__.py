"""The rules of Customer Cards: one module per domain. Views and the CLI call these.

Nothing here touches Flask request state: the caller passes the actor and the values in.
"""


def N_(message):
    """Mark a message for translation; the view that shows it translates it (gettext)."""
    return message


class DomainError(Exception):
    """A rule said no. ``field`` names the form field the message belongs to, if any;
    ``params`` fill the message's %(name)s placeholders after translation."""

    def __init__(self, message, field=None, **params):
        super().__init__(message % params if params else message)
        self.message = message
        self.field = field
        self.params = params
