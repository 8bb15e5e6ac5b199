"""Short-lived ``dev-<id>`` stacks: which may be torn down, creating one, tearing it down."""
