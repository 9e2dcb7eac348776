"""The digest as a MIME message: multipart/alternative of the text and of the HTML with its images inline.

Headers are set through the ``email`` package (policy ``default``), so no value can add a header:

* the subject is display text: every CR, LF or other control character in it is folded to a space;
* sender, recipient and message id are not: one holding CR or LF raises :class:`ValueError`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import default

from .render import RenderedDigest


def build_message(
    rendered: RenderedDigest, sender: str, recipient: str, message_id: str, sent_at: datetime
) -> EmailMessage:
    """The message to send. ``message_id`` is used as given (angle brackets added if missing); a naive
    ``sent_at`` is taken as UTC."""
    for name, value in (("sender", sender), ("recipient", recipient), ("message id", message_id)):
        if re.search(r"[\r\n]", value):
            raise ValueError(f"the {name} must not contain a line break: {value!r}")
    message = EmailMessage(policy=default)
    message["Subject"] = re.sub(r"[\s\x00-\x1f\x7f]+", " ", rendered.subject).strip()
    message["From"] = sender
    message["To"] = recipient
    message["Date"] = sent_at if sent_at.tzinfo else sent_at.replace(tzinfo=UTC)
    message_id = message_id.strip()
    message["Message-ID"] = message_id if message_id.startswith("<") else f"<{message_id}>"
    message.set_content(rendered.text, subtype="plain", charset="utf-8")
    message.add_alternative(rendered.html, subtype="html", charset="utf-8")
    html_part = message.get_payload()[1]  # type: ignore[index]
    for cid, png in sorted(rendered.images.items()):
        name = cid.split("@")[0] + ".png"
        html_part.add_related(png, "image", "png", cid=f"<{cid}>", disposition="inline", filename=name)
    return message
