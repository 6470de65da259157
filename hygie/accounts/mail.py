"""E-mails to people about their account (invitation, forgotten password), plain text."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation


def absolute_url(name: str, *args) -> str:
    """A link for an e-mail, built on HYGIE_BASE_URL, never on the request's Host header
    (which whoever sends the request chooses)."""
    return settings.BASE_URL.rstrip("/") + reverse(name, args=args)


def send(template: str, to: str, context: dict, *, language: str | None = None) -> None:
    """Render `accounts/email/<template>_subject.txt` and `<template>.txt` and send them.

    Errors of the mail server propagate: each caller decides what the user is told.
    """
    context = {"base_url": settings.BASE_URL.rstrip("/"), **context}
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = render_to_string(f"accounts/email/{template}_subject.txt", context)
        body = render_to_string(f"accounts/email/{template}.txt", context)
    subject = " ".join(subject.split())
    EmailMessage(subject, body.strip() + "\n", to=[to]).send()
