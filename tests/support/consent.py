"""Submit the sandbox consent form as a browser would, with nothing but html.parser."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin

import requests


class FormReader(HTMLParser):
    """Collects the first <form>: its method, action, hidden inputs, selects and checkboxes."""

    def __init__(self) -> None:
        super().__init__()
        self.method = "get"
        self.action: str | None = None
        self.hidden: list[tuple[str, str]] = []
        self.selects: dict[str, list[tuple[str, bool]]] = {}
        self.checkboxes: list[tuple[str, str, bool]] = []
        self.buttons: list[tuple[str, str]] = []
        self._select: str | None = None
        self._forms = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Record the form controls we care about (only inside the first form)."""
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._forms += 1
            if self._forms == 1:
                self.method = a.get("method", "get").lower()
                self.action = a.get("action", "")
            return
        if self._forms != 1:
            return
        if tag == "input" and a.get("type") == "hidden":
            self.hidden.append((a["name"], a.get("value", "")))
        elif tag == "input" and a.get("type") == "checkbox":
            self.checkboxes.append((a["name"], a.get("value", "on"), "checked" in a))
        elif tag == "select":
            self._select = a["name"]
            self.selects[self._select] = []
        elif tag == "option" and self._select is not None:
            self.selects[self._select].append((a.get("value", ""), "selected" in a))
        elif tag == "button" and "name" in a:
            self.buttons.append((a["name"], a.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        """Close the current <select>."""
        if tag == "select":
            self._select = None


def read_form(html: str) -> FormReader:
    """Parse a page and return its first form."""
    reader = FormReader()
    reader.feed(html)
    if reader.action is None:
        raise ValueError("no <form> on the page")
    return reader


def submit_consent(session: requests.Session, consent_page_url: str, *, user: str = "-000alice",
                   scopes: list[str] | None = None, decision: str = "approve"
                   ) -> requests.Response:
    """GET the consent page, fill it in like a browser and POST it; returns the 302 response.

    ``scopes`` None keeps every box as served (all ticked); a list ticks exactly those present.
    """
    page = session.get(consent_page_url, timeout=10)
    page.raise_for_status()
    form = read_form(page.text)
    options = [value for value, _ in form.selects.get("user", [])]
    if user not in options:
        raise ValueError(f"user {user!r} is not offered; options: {options}")
    if ("decision", decision) not in form.buttons:
        raise ValueError(f"no decision button {decision!r}")
    fields: list[tuple[str, str]] = list(form.hidden)
    fields.append(("user", user))
    for name, value, checked in form.checkboxes:
        if (checked if scopes is None else value in scopes):
            fields.append((name, value))
    fields.append(("decision", decision))
    target = urljoin(page.url, form.action or "")
    return session.request(form.method.upper(), target, data=fields, allow_redirects=False,
                           timeout=10)
