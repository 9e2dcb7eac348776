"""The sponsors' weekly status digest e-mail: rendering (subject, HTML, text, chart) and the MIME message."""

from .message import build_message
from .render import DigestInput, RenderedDigest, render_digest

__all__ = ["DigestInput", "RenderedDigest", "build_message", "render_digest"]
