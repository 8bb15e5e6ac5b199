"""The Pulumi program: typed stack settings -> components -> stack outputs (see program.py)."""
