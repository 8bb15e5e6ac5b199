"""Pulumi program entry point (filled by the infrastructure stacks)."""
