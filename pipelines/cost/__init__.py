"""``mlops infra cost``: a stack's monthly estimate from what it declares and the Azure retail prices.

:mod:`~pipelines.cost.prices` reads the public Azure Retail Prices API (cached with a timestamp,
or a prices file for offline use); :mod:`~pipelines.cost.meters` says which price each declared
resource pays and how much of it a month; :mod:`~pipelines.cost.estimate` adds it up, per resource
and in total, and compares two estimates.
"""
