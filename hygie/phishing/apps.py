from django.apps import AppConfig


class PhishingConfig(AppConfig):
    name = "hygie.phishing"
    label = "phishing"
    verbose_name = "Simulations d'hameçonnage"
