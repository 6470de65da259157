"""Password rules after ANSSI's current guidance: length over composition rules."""

from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


class LengthValidator:
    def __init__(self, min_length: int = 12, max_length: int = 128):
        self.min_length = min_length
        self.max_length = max_length

    def validate(self, password, user=None):
        if len(password) < self.min_length:
            raise ValidationError(
                ngettext(
                    "Le mot de passe doit contenir au moins %(min)d caractère.",
                    "Le mot de passe doit contenir au moins %(min)d caractères.",
                    self.min_length,
                ),
                code="password_too_short",
                params={"min": self.min_length},
            )
        if len(password) > self.max_length:
            raise ValidationError(
                _("Le mot de passe ne peut pas dépasser %(max)d caractères."),
                code="password_too_long",
                params={"max": self.max_length},
            )

    def get_help_text(self):
        return _(
            "Au moins %(min)d caractères. Une phrase de passe de plusieurs mots est plus sûre "
            "et plus facile à retenir ; aucune règle de composition n'est imposée."
        ) % {"min": self.min_length}


def _is_run(text: str) -> bool:
    """abcdef…, 98765…, 0123456789012… : each character one step from the previous one."""
    if len(text) < 3:
        return False
    steps = set()
    for a, b in zip(text, text[1:], strict=False):
        step = ord(b) - ord(a)
        if a.isdigit() and b.isdigit() and abs(step) == 9:
            step = -step // 9  # 9→0 and 0→9 continue a run of digits
        steps.add(step)
    return steps in ({1}, {-1})


class NotOnlyRepeatedValidator:
    """Refuse passwords made of one repeated character or a trivial run (aaaa…, 1234…)."""

    def validate(self, password, user=None):
        lowered = password.lower()
        if len(set(lowered)) <= 2 or _is_run(lowered):
            raise ValidationError(
                _("Le mot de passe est trop répétitif."), code="password_repetitive"
            )

    def get_help_text(self):
        return _("Évitez les répétitions d'un même caractère.")


# Words people in French hospitals reach for first, plus keyboard rows. Written for Hygie;
# Django's own (English-centric) list of common passwords is checked as well.
FRENCH_COMMON_WORDS = frozenset(
    """
    azerty azertyuiop azertyuiopqsdf qsdfghjklm wxcvbn azertyqwerty qwertyazerty
    motdepasse motdepass mdp monmotdepasse nouveaumotdepasse changemoi changeme
    bonjour bonsoir salut coucou merci bienvenue bienvenu secret secrete
    soleil lune etoile amour jetaime toujours liberte bonheur
    doudou loulou chouchou bebe cheri cherie titi toto tata nounours
    chocolat vanille fromage baguette croissant
    chien chat lapin cheval tigre lion dauphin papillon
    football olympique psg marseille paris lyon lille bordeaux toulouse nantes rennes
    strasbourg montpellier nice rouen amiens caen reims dijon
    france bretagne normandie alsace corse provence picardie
    printemps ete automne hiver janvier fevrier mars avril mai juin juillet aout septembre
    octobre novembre decembre lundi mardi mercredi jeudi vendredi samedi dimanche
    hopital hospitalier hospital clinique ehpad ght chu ars sante
    infirmier infirmiere medecin docteur chirurgie urgences pharmacie radiologie
    maternite pediatrie reanimation bloc patient patients soignant soignante
    administrateur admin administrateursysteme informatique utilisateur invite
    hygie cybersecurite securite
    nicolas julien thomas pierre camille marie julie sophie nathalie isabelle
    christophe stephane sebastien laurent philippe frederic david alexandre
    """.split()
)
_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
)
_EDGE = "0123456789 !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"


def _core_word(password: str) -> str:
    """`Motdepasse2024!` → `motdepasse`; `H0pit@l!!` → `hopital`."""
    plain = unicodedata.normalize("NFKD", password.lower())
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    return plain.strip(_EDGE).translate(_LEET).replace(" ", "").replace("-", "")


class CommonWordValidator:
    """Refuse one common word dressed up with digits, symbols, capitals or leetspeak."""

    def validate(self, password, user=None):
        from django.contrib.auth.password_validation import CommonPasswordValidator

        core = _core_word(password)
        if len(core) < 4:
            return  # too little of a word left to judge; the length rule speaks instead
        common = CommonPasswordValidator().passwords
        half = core[: len(core) // 2]
        if (
            core in FRENCH_COMMON_WORDS
            or core in common
            or (half * 2 == core and (half in FRENCH_COMMON_WORDS or half in common))
        ):
            raise ValidationError(
                _(
                    "Ce mot de passe repose sur un mot trop courant (« %(word)s ») : ajouter "
                    "des chiffres ou des symboles ne suffit pas. Préférez une phrase de "
                    "plusieurs mots."
                ),
                code="password_common_word",
                params={"word": core},
            )

    def get_help_text(self):
        return _("Pas de mot courant simplement complété de chiffres ou de symboles.")
