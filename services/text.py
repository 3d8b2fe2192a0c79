"""Text that staff or customers type into a form, checked by the rules the back office shares
(campaigns, surveys, tiers, feedback): CR LF as one newline, trimmed, NUL refused, a length
limit, each refusal a DomainError at the field.

The card's own fields (services.profile, services.field_values) follow stricter rules: NFC,
every control character refused, blank stored as NULL; they keep their own helper."""
from services import N_, DomainError


def clean_text(value, field, limit, multiline=False, required=None):
    """``value`` trimmed: a single line has each run of whitespace made one space, several
    lines keep their line breaks (CR LF becomes LF). ``required`` is the message to show when
    it is blank (None: blank is allowed). NUL is refused as PostgreSQL cannot store it."""
    text = str(value or "").replace("\r\n", "\n")
    text = text.strip() if multiline else " ".join(text.split())
    if required and not text:
        raise DomainError(required, field)
    if "\x00" in text:
        raise DomainError(N_("This text contains a character that cannot be stored."), field)
    if len(text) > limit:
        raise DomainError(N_("Use at most %(max)d characters (now %(count)d)."), field,
                          max=limit, count=len(text))
    return text
