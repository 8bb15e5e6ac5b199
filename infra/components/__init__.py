"""The program's component resources, one module per concern."""
