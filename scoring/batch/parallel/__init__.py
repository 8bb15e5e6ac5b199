"""The Azure ML parallel job's entry script (``entry.py``), alone in its folder: Azure ML may put
the script's folder on ``sys.path``, where a sibling module (``run``, ``tables``) would shadow
another package's module of that name."""
