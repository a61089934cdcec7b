"""Deploybot's state in Redis. Key names and TTLs are all in ``bot.store.keys``."""

from bot.store.core import Confirmation, DeploymentRecord, Record, Store, ViewState, new_id, open_store, redis_client

__all__ = ["Confirmation", "DeploymentRecord", "Record", "Store", "ViewState", "new_id", "open_store", "redis_client"]
