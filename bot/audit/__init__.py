"""The audit log: what moderators did, who, when and why. A service of its own, with its migration beside it."""

from bot.audit.log import AuditEntry, AuditLog

__all__ = ["AuditEntry", "AuditLog"]
