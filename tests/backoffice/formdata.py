"""Read a page's form the way a browser would submit it: every input, select and textarea."""
from html.parser import HTMLParser


class _Form(HTMLParser):
    def __init__(self, form_id):
        super().__init__(convert_charrefs=True)
        self.form_id, self.inside, self.values = form_id, False, {}
        self._select = self._textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = self.form_id is None or self.form_id in (attrs.get("class") or "")
            return
        if not self.inside or "name" not in attrs:
            return
        name = attrs["name"]
        if tag == "input":
            if attrs.get("type") == "checkbox":
                if "checked" in attrs:
                    self.values[name] = attrs.get("value", "y")
            else:
                self.values[name] = attrs.get("value", "")
        elif tag == "select":
            self._select = name
            self.values.setdefault(name, None)
        elif tag == "textarea":
            self._textarea = name
            self.values[name] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_data(self, data):
        if self._textarea and self.inside:
            self.values[self._textarea] += data.lstrip("\n") if not self.values[
                self._textarea] else data


def _options(html, form_class):
    """Selected option per select (the first when none is selected)."""
    class Options(HTMLParser):
        def __init__(self):
            super().__init__()
            self.inside, self.select, self.chosen, self.first = False, None, {}, {}

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "form":
                self.inside = form_class in (attrs.get("class") or "")
            elif self.inside and tag == "select":
                self.select = attrs.get("name")
            elif self.inside and tag == "option" and self.select:
                self.first.setdefault(self.select, attrs.get("value", ""))
                if "selected" in attrs:
                    self.chosen[self.select] = attrs.get("value", "")

        def handle_endtag(self, tag):
            if tag == "select":
                self.select = None
    parser = Options()
    parser.feed(html)
    return {**parser.first, **parser.chosen}


def form_values(html, form_class):
    """{name: value} of the form whose class contains ``form_class``, as it would be posted."""
    parser = _Form(form_class)
    parser.feed(html)
    values = parser.values
    values.update(_options(html, form_class))
    return {k: v for k, v in values.items() if v is not None}
