"""Models, one module per aggregate; importing this package registers them all."""

from casework.models.audit import AuditEvent
from casework.models.organisations import Organisation, OrganisationKind
from casework.models.users import Role, User, UserSession

__all__ = ["AuditEvent", "Organisation", "OrganisationKind", "Role", "User", "UserSession"]
