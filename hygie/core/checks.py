"""System checks of Hygie's own configuration (run by every command and `hygie check --deploy`)."""

from django.core import checks

from hygie.core.env import unknown_variables


@checks.register(checks.Tags.compatibility)
def check_unknown_variables(app_configs=None, **kwargs):
    warnings = []
    for key, suggestion in unknown_variables():
        hint = f"Did you mean {suggestion}?" if suggestion else "Remove it or check its spelling."
        warnings.append(
            checks.Warning(
                f"{key} is set but Hygie reads no such variable; it has no effect.",
                hint=hint,
                id="hygie.W001",
            )
        )
    return warnings
