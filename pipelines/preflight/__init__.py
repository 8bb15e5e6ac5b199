"""``mlops preflight``: read-only checks of a subscription before a stack's first ``pulumi up``.

The failures a first deployment meets minutes in (vCPU quota, a global name already taken, a
soft-deleted Key Vault, a provider or preview feature not registered, no right to create role
assignments) are checked here in seconds, against what the stack declares
(:mod:`pipelines.declared`). Azure is read through the SDKs in :mod:`pipelines.preflight.azure`
into plain facts (:mod:`pipelines.preflight.facts`); every check is a pure function of the stack
and the facts, and each failure names its fix.
"""
