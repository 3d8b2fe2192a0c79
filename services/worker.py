"""The job worker's entry point: the huey instance with every task module registered.

Production: ``huey_consumer services.worker.huey -k thread -w 4``.
"""
from services import mail, maintenance, tiers  # noqa: F401  (registers their tasks)
from services.jobs import huey

__all__ = ["huey"]
