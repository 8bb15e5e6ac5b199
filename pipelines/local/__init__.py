"""The local environment: registry, step processes, runner, lifecycle and endpoint on this machine."""
