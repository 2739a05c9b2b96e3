"""Rewards (有奖举报): the services other tools and scripts call, importable from here.

``propose``, ``approve``, ``claim``, ``pay``, ``cancel`` and ``lapse_overdue`` (casework/rewards/
services.py) and the models ``Reward`` and ``RewardPayment`` are loaded on first use, so importing
this package while Django starts (it is also the app's module) does not touch the app registry.
"""

SERVICES = ("propose", "approve", "claim", "pay", "cancel", "lapse_overdue")
MODELS = ("Reward", "RewardPayment")

__all__ = [*SERVICES, *MODELS]


def __getattr__(name):
    if name in SERVICES:
        from . import services

        return getattr(services, name)
    if name in MODELS:
        from . import models

        return getattr(models, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
